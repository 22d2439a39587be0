// One session whole: its facts, who watched it, and one timeline that merges what happened to it (watchers,
// controls, web pages), the audit rows that name it, the commands typed and the rules that matched.
import { and, asc, eq } from "drizzle-orm";
import { audit, type Actor } from "./audit";
import { hasRole, type SignedInUser } from "../auth/current-user";
import { listRiskEvents } from "./command-policy/risk";
import type { Database } from "./client";
import { accessRequests, auditLog, recordingChunks, sessionEvents, transcriptLines } from "./schema";
import { notFound } from "../domain/errors";
import { requireRecordingAccess } from "./governance/recording-access";
import { listSessionEvents } from "./session-events";
import { findSession } from "./sessions";

/** Each source gives the timeline at most this many entries: a session with more says it was cut. */
export const momentsPerSource = 2000;

export type MomentSource = "session" | "audit" | "command" | "risk";

export interface SessionMoment {
  key: string;
  at: Date;
  source: MomentSource;
  text: string;
  /** Shown quietly: a web request, a read of the recording. */
  quiet: boolean;
}

/** One line of the timeline for a session event: who did what, or for a web session the page opened or the request made. */
function describeEvent({ kind, actorName, details }: Awaited<ReturnType<typeof listSessionEvents>>[number]) {
  const text = (key: string) => (typeof details[key] === "string" || typeof details[key] === "number" ? String(details[key]) : "");
  if (kind === "web.navigation") return `${actorName} opened ${text("path")}`;
  if (kind === "web.request") return `${text("method")} ${text("path")} → ${text("status")} (${text("bytes")} bytes, ${text("ms")} ms)`;
  if (kind === "web.page_unrecorded") return `page not recorded: ${text("reason")} (${text("path")})`;
  if (kind === "web.recorder_silent") return `no page is recording: ${text("reason")}`;
  if (kind === "web.recording_limited") return `recording limited: ${text("reason")}`;
  return `${kind.replace(/[._]/g, " ")} by ${actorName}${text("reason") ? `: ${text("reason")}` : ""}`;
}

/** Audit actions that only say someone looked: on the timeline, but quietly. */
const readActions = new Set(["recording.view", "recording.read", "session.view"]);

/** The merged timeline of a session, oldest first, and whether a source had more than it shows. */
export type SessionTimelineData = { moments: SessionMoment[]; cut: boolean };

export async function sessionMoments(db: Database, session: { id: string; startedAt: Date }): Promise<SessionTimelineData> {
  const [events, risks, audited, commands] = await Promise.all([
    listSessionEvents(db, session.id, momentsPerSource),
    listRiskEvents(db, session.id, session.startedAt),
    db
      .select({ seq: auditLog.seq, at: auditLog.at, actorName: auditLog.actorName, action: auditLog.action, outcome: auditLog.outcome, details: auditLog.details })
      .from(auditLog)
      .where(and(eq(auditLog.objectType, "session"), eq(auditLog.objectId, session.id)))
      .orderBy(asc(auditLog.seq))
      .limit(momentsPerSource),
    db
      .select({ id: transcriptLines.id, atMs: transcriptLines.atMs, text: transcriptLines.text })
      .from(transcriptLines)
      .where(and(eq(transcriptLines.sessionId, session.id), eq(transcriptLines.kind, "command")))
      .orderBy(asc(transcriptLines.id))
      .limit(momentsPerSource),
  ]);
  const reason = (details: Record<string, unknown>) => (typeof details.reason === "string" ? `: ${details.reason}` : "");
  const moments: SessionMoment[] = [
    ...events.map((event) => ({ key: `e${event.id}`, at: event.at, source: "session" as const, text: describeEvent(event), quiet: event.kind === "web.request" })),
    ...risks.map((event) => ({
      key: `r${event.id}`,
      at: new Date(event.at),
      source: "risk" as const,
      text: `${event.severity} risk: ${event.ruleName} (${event.outcome}${event.decidedBy ? ` by ${event.decidedBy}` : ""}): ${event.subject}`,
      quiet: false,
    })),
    ...audited.map((row) => ({
      key: `a${row.seq}`,
      at: row.at,
      source: "audit" as const,
      text: `${row.action}${row.outcome === "success" ? "" : ` (${row.outcome})`} by ${row.actorName}${reason(row.details)}`,
      quiet: readActions.has(row.action),
    })),
    ...commands.map((command) => ({ key: `c${command.id}`, at: new Date(session.startedAt.getTime() + command.atMs), source: "command" as const, text: `$ ${command.text}`, quiet: false })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  const cut = [events, risks, audited, commands].some((rows) => rows.length >= momentsPerSource);
  return { moments, cut };
}

/**
 * The session details page's facts. Security and admins see every session (they oversee them live); anyone
 * else needs to be allowed its recording, as for the player. Opening it is audited.
 */
export async function readSessionDetails(db: Database, person: SignedInUser, actor: Actor, sessionId: string) {
  const session = await findSession(db, sessionId);
  if (!session) throw notFound("Session");
  if (!hasRole(person, ["security", "admin"])) await requireRecordingAccess(db, person, actor, sessionId);
  const [request, recorded, watchers] = await Promise.all([
    session.requestId
      ? db
          .select({ activityName: accessRequests.activityName, ticket: accessRequests.ticket, notes: accessRequests.notes })
          .from(accessRequests)
          .where(eq(accessRequests.id, session.requestId))
          .then((rows) => rows[0])
      : undefined,
    db
      .select({ seq: recordingChunks.seq })
      .from(recordingChunks)
      .where(eq(recordingChunks.sessionId, sessionId))
      .limit(1)
      .then((rows) => rows.length > 0),
    watchersOf(db, sessionId),
  ]);
  await audit(db, actor, { action: "session.view", objectType: "session", objectId: sessionId, details: { user: session.username, target: session.targetName } });
  return { session, request, recorded, watchers };
}

/** Who watched the session, each once, from its timeline. */
async function watchersOf(db: Database, sessionId: string) {
  const rows = await db
    .selectDistinct({ name: sessionEvents.actorName })
    .from(sessionEvents)
    .where(and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.kind, "watch.join")));
  return rows.map((row) => row.name).sort();
}
