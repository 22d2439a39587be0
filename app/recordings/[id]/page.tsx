import { notFound } from "next/navigation";
import { SessionTimeline } from "@/app/_components/session-timeline";
import { PageTitle } from "@/app/_ui/primitives";
import { headers } from "next/headers";
import { audit } from "@/lib/audit";
import { actorOf, requirePageUser } from "@/lib/auth/current-user";
import { clientAddress } from "@/lib/request-context";
import { runtime } from "@/lib/runtime";
import { findSession } from "@/lib/sessions";
import { DesktopPlayer } from "./desktop-player";
import { LegalHold } from "./legal-hold";
import { Player } from "./player";
import { WebPlayer } from "./web-player";

export default async function RecordingPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ t?: string }> }) {
  const user = await requirePageUser(["reviewer", "admin"]);
  const { id } = await params;
  const session = await findSession(runtime().db, id);
  if (!session) notFound();
  await audit(runtime().db, actorOf(user, clientAddress(await headers())), { action: "recording.view", objectType: "session", objectId: id, details: { target: session.targetName, user: session.username } });
  const startAt = Math.max(0, Number((await searchParams).t) || 0);
  return (
    <>
      <PageTitle description={`Started ${session.startedAt.toISOString().replace("T", " ").slice(0, 19)} UTC${session.requestId ? ` · under access request ${session.requestId}` : ""}`}>
        {session.username} on {session.targetName}
      </PageTitle>
      <LegalHold sessionId={id} held={session.preventPurge} />
      {session.protocol === "web" ? (
        <WebPlayer sessionId={id} startAt={startAt} />
      ) : session.protocol === "rdp" || session.protocol === "vnc" ? (
        <DesktopPlayer sessionId={id} startAt={startAt} />
      ) : (
        <Player sessionId={id} startAt={startAt} />
      )}
      <SessionTimeline sessionId={id} startedAt={session.startedAt} seekable />
    </>
  );
}
