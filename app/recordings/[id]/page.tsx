import { forbidden, notFound } from "next/navigation";
import { SessionTimeline } from "@/app/_components/session-timeline";
import { Card, PageTitle } from "@/app/_ui/primitives";
import { headers } from "next/headers";
import { audit } from "@/lib/data/audit";
import { actorOf, hasRole, requirePageUser } from "@/lib/auth/current-user";
import { clientAddress } from "@/lib/infra/request-context";
import { recordingAccess } from "@/lib/data/governance/recording-access";
import { auditRecordingRefusal } from "@/lib/data/read-audit";
import { runtime } from "@/lib/infra/runtime";
import { findSession } from "@/lib/data/sessions";
import { recordingActivity } from "@/lib/data/recording-activity";
import { sessionMoments } from "@/lib/data/session-details";
import { DesktopPlayer } from "./desktop-player";
import { LegalHold } from "./legal-hold";
import { VideoExports } from "./video-exports";
import { RecordingRequestForm } from "./recording-request-form";
import { Player } from "./player";
import { WebPlayer } from "./web-player";

export default async function RecordingPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ t?: string }> }) {
  const user = await requirePageUser();
  const { id } = await params;
  const session = await findSession(runtime().db, id);
  const access = session ? await recordingAccess(runtime().db, user, id) : undefined;
  if (!session || !access) notFound();
  const actor = actorOf(user, clientAddress(await headers()));
  if (!access.allowed) {
    await auditRecordingRefusal(runtime().db, actor, id, access.reason);
    // Someone who could not even ask gets the plain 403 page; a reviewer may ask with a justification.
    if (!access.requestable) forbidden();
    return (
      <>
        <PageTitle>
          {session.username} on {session.targetName}
        </PageTitle>
        <Card className="max-w-2xl space-y-3">
          <p role="alert" className="text-sm text-slate-800">
            You may not open this recording: {access.reason}.
          </p>
          <RecordingRequestForm sessionId={id} />
        </Card>
      </>
    );
  }
  await audit(runtime().db, actor, { action: "recording.view", objectType: "session", objectId: id, details: { target: session.targetName, user: session.username } });
  // `t` is seconds into the session for every player (search hits, the timeline and the risk view link with it).
  const startAt = Math.max(0, Number((await searchParams).t) || 0);
  // Whole milliseconds for the players that ask the gateway by the millisecond: 1.005 s is 1004.9999999999999 ms
  // in floating point, which the gateway rightly refuses.
  const startAtMs = Math.round(startAt * 1000);
  const timeline = await sessionMoments(runtime().db, session);
  const activity = await recordingActivity(runtime().db, session, timeline.moments);
  return (
    <>
      <PageTitle description={`Started ${session.startedAt.toISOString().replace("T", " ").slice(0, 19)} UTC${session.requestId ? ` · under access request ${session.requestId}` : ""}`}>
        {session.username} on {session.targetName}
      </PageTitle>
      {hasRole(user, ["reviewer", "admin"]) ? <LegalHold sessionId={id} held={session.preventPurge} /> : null}
      {session.protocol === "web" ? (
        <>
          <WebPlayer sessionId={id} startAt={startAtMs} activity={activity} />
          <VideoExports sessionId={id} />
        </>
      ) : session.protocol === "rdp" || session.protocol === "vnc" ? (
        <>
          <DesktopPlayer sessionId={id} startAt={startAtMs} activity={activity} />
          <VideoExports sessionId={id} />
        </>
      ) : (
        <Player sessionId={id} startAt={startAt} activity={activity} />
      )}
      <SessionTimeline session={session} timeline={timeline} playerHref={`/recordings/${id}`} />
    </>
  );
}
