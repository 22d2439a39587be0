import { headers } from "next/headers";
import Link from "next/link";
import { notFound, redirect } from "next/navigation";
import { Card, PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { decideAccess } from "@/lib/data/governance/access";
import { clientAddress } from "@/lib/infra/request-context";
import { runtime } from "@/lib/infra/runtime";
import { sessionTexts } from "@/lib/data/settings";
import { findTarget } from "@/lib/data/targets";
import { DesktopView } from "./desktop-view";
import { NoticeAcceptance } from "./notice-acceptance";
import { TerminalView } from "./terminal-view";

export default async function ConnectPage({ params }: { params: Promise<{ targetId: string }> }) {
  const user = await requirePageUser();
  const target = await findTarget(runtime().db, (await params).targetId);
  const decision = target ? await decideAccess(runtime().db, user, target, clientAddress(await headers())) : undefined;
  // A target this user may not reach looks exactly like one that does not exist.
  if (!target || !decision || (!decision.allowed && decision.code === "not_listed")) notFound();
  const texts = await sessionTexts(runtime().db);
  if (!decision.allowed && decision.code === "notice_not_accepted" && texts.logonNotice) {
    return (
      <>
        <PageTitle>{target.name}</PageTitle>
        <NoticeAcceptance targetId={target.id} notice={texts.logonNotice} next={target.protocol === "web" ? `/apps/${target.name}` : `/connect/${target.id}`} />
      </>
    );
  }
  if (!decision.allowed) {
    return (
      <>
        <PageTitle>{target.name}</PageTitle>
        <Card>
          <p role="alert" className="text-sm text-slate-800">
            Access refused: {decision.reason}.
          </p>
          {decision.requestable ? (
            <Link href={`/requests?target=${target.id}`} className="mt-4 inline-block rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
              Request access
            </Link>
          ) : null}
        </Card>
      </>
    );
  }
  if (target.protocol === "web") redirect(`/apps/${target.name}`);
  const View = target.protocol === "ssh" ? TerminalView : DesktopView;
  return <View targetId={target.id} targetName={target.name} recordingNotice={target.recordSessions || decision.recordingRequired ? texts.recordingNotice : null} />;
}
