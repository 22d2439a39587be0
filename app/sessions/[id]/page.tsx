import Link from "next/link";
import { headers } from "next/headers";
import { forbidden, notFound } from "next/navigation";
import { SessionTimeline } from "@/app/_components/session-timeline";
import { amountOfData, spanOfTime } from "@/lib/domain/format";
import { Badge, Card, PageTitle } from "@/app/_ui/primitives";
import { actorOf, hasRole, requirePageUser } from "@/lib/auth/current-user";
import { ApiError } from "@/lib/domain/errors";
import { clientAddress } from "@/lib/infra/request-context";
import { runtime } from "@/lib/infra/runtime";
import { readSessionDetails, sessionMoments } from "@/lib/data/session-details";

function Fact({ name, children }: { name: string; children: React.ReactNode }) {
  return (
    <div className="py-1.5 sm:grid sm:grid-cols-3 sm:gap-4">
      <dt className="text-sm font-medium text-slate-600">{name}</dt>
      <dd className="text-sm text-slate-900 sm:col-span-2">{children}</dd>
    </div>
  );
}

const utc = (at: Date) => `${at.toISOString().replace("T", " ").slice(0, 19)} UTC`;

/** One session whole: who, from where, under which request, how it ended, who watched, and everything that happened. */
export default async function SessionDetailsPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser();
  const { id } = await params;
  const details = await readSessionDetails(runtime().db, user, actorOf(user, clientAddress(await headers())), id).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) notFound();
    if (error instanceof ApiError && error.status === 403) forbidden();
    throw error;
  });
  const { session, request, recorded, watchers } = details;
  const live = session.status !== "ended";
  return (
    <>
      <PageTitle description={`${session.protocol.toUpperCase()} session ${session.id}`}>
        {session.username} on {session.targetName}
      </PageTitle>
      <nav aria-label="This session" className="mb-4 flex flex-wrap gap-4 text-sm font-medium">
        {live && hasRole(user, ["security", "admin"]) ? (
          <Link href={`/live/${session.id}`} className="text-indigo-700">
            Watch live
          </Link>
        ) : null}
        {recorded ? (
          <Link href={`/recordings/${session.id}`} className="text-indigo-700">
            Play the recording
          </Link>
        ) : null}
        <Link href={`/sessions/${session.id}/risk`} className="text-indigo-700">
          Risk analysis
        </Link>
      </nav>
      <Card>
        <dl className="divide-y divide-slate-100" aria-label="Session facts">
          <Fact name="User">{session.username}</Fact>
          <Fact name="Target">
            {session.targetName} <Badge>{session.protocol.toUpperCase()}</Badge>
          </Fact>
          <Fact name="Connected from">{session.clientAddress ?? "not known"}</Fact>
          <Fact name="Gateway node">{session.node}</Fact>
          <Fact name="Started">{utc(session.startedAt)}</Fact>
          <Fact name="Status">
            {live ? (
              `${session.status}, for ${spanOfTime(Date.now() - session.startedAt.getTime())}`
            ) : (
              <>
                ended {session.endedAt ? `${utc(session.endedAt)}, after ${spanOfTime(session.endedAt.getTime() - session.startedAt.getTime())}` : ""} ({session.endReason?.replace(/_/g, " ")})
                {session.endMessage ? <span className="block text-slate-600">{session.endMessage}</span> : null}
              </>
            )}
          </Fact>
          <Fact name="Access request">
            {request ? (
              <>
                {request.activityName}
                {request.ticket ? ` · ticket ${request.ticket}` : ""}
                {request.notes ? <span className="block text-slate-600">{request.notes}</span> : null}
              </>
            ) : session.requestId ? (
              "a request since deleted"
            ) : (
              "none: standing access"
            )}
          </Fact>
          <Fact name="Data">
            {amountOfData(session.bytesFromUser)} from the user · {amountOfData(session.bytesToUser)} to the user{live ? " (counted when the session ends)" : ""}
          </Fact>
          <Fact name="Risk score">
            <span className={session.riskScore > 0 ? "font-semibold text-red-700" : undefined}>{session.riskScore}</span>
          </Fact>
          <Fact name="Recording">{session.recordingPurgedAt ? `purged ${utc(session.recordingPurgedAt)}` : recorded ? (session.preventPurge ? "recorded, on legal hold" : "recorded") : "not recorded"}</Fact>
          <Fact name="Watched by">{watchers.length > 0 ? watchers.join(", ") : "nobody"}</Fact>
        </dl>
      </Card>
      <SessionTimeline session={session} timeline={await sessionMoments(runtime().db, session)} playerHref={recorded ? `/recordings/${session.id}` : undefined} />
    </>
  );
}
