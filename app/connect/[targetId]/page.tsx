import { headers } from "next/headers";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Card, PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { decideAccess } from "@/lib/governance/access";
import { clientAddress } from "@/lib/request-context";
import { runtime } from "@/lib/runtime";
import { readSettings } from "@/lib/settings";
import { findTarget } from "@/lib/targets";
import { DesktopView } from "./desktop-view";
import { TerminalView } from "./terminal-view";

export default async function ConnectPage({ params }: { params: Promise<{ targetId: string }> }) {
  const user = await requirePageUser();
  const target = await findTarget(runtime().db, (await params).targetId);
  const decision = target ? await decideAccess(runtime().db, user, target, clientAddress(await headers())) : undefined;
  // A target this user may not reach looks exactly like one that does not exist.
  if (!target || !decision || (!decision.allowed && decision.code === "not_listed") || target.protocol === "web") notFound();
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
  const { showRecordingIndicator } = await readSettings(runtime().db);
  const View = target.protocol === "ssh" ? TerminalView : DesktopView;
  return <View targetId={target.id} targetName={target.name} showRecordingIndicator={showRecordingIndicator && (target.recordSessions || decision.recordingRequired)} />;
}
