import Link from "next/link";
import { notFound } from "next/navigation";
import { SessionTimeline } from "@/app/_components/session-timeline";
import { PageTitle } from "@/app/_ui/primitives";
import { hasRole, requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/infra/runtime";
import { sessionMoments } from "@/lib/data/session-details";
import { findSession } from "@/lib/data/sessions";
import { WatchView } from "./watch-view";

export default async function WatchPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser(["security", "admin"]);
  const session = await findSession(runtime().db, (await params).id);
  if (!session) notFound();
  return (
    <>
      <PageTitle description={`Started ${session.startedAt.toISOString().slice(0, 19).replace("T", " ")} on node ${session.node}. A read-only view: nothing you type reaches the session.`}>
        {session.username} on {session.targetName}
      </PageTitle>
      <Link href={`/sessions/${session.id}`} className="mb-3 inline-block text-sm font-medium text-indigo-700">
        Session details
      </Link>
      {session.status === "ended" ? (
        <p className="text-sm text-slate-700">
          This session has ended ({session.endReason?.replace(/_/g, " ")}).{" "}
          {hasRole(user, ["reviewer", "admin"]) ? (
            <Link href={`/recordings/${session.id}`} className="font-medium text-indigo-700">
              Play its recording
            </Link>
          ) : null}
        </p>
      ) : (
        <WatchView sessionId={session.id} who={`${session.username} on ${session.targetName}`} protocol={session.protocol} />
      )}
      <SessionTimeline session={session} timeline={await sessionMoments(runtime().db, session)} />
    </>
  );
}
