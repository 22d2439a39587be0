// The facts the recording access decision reads (lib/domain/governance/decide.ts › decideRecordingAccess), for one
// recording (its page and every API route that reads it) or for many (search results); and asking for access to
// one recording with a justification, through the same requests and approvals as access to targets.
import { and, eq, inArray } from "drizzle-orm";
import { audit, type Actor } from "../audit";
import type { SignedInUser } from "../../auth/current-user";
import type { Database } from "../client";
import { accessRequests, sessionAudits, sessions, targets } from "../schema";
import { ApiError, notFound } from "../../domain/errors";
import { isUuid } from "../../domain/ids";
import { auditRecordingRefusal } from "../read-audit";
import { searchTranscripts } from "../transcripts";
import { loadPolicies } from "./access";
import { decideRecordingAccess, policyCovers, type RecordingAccess } from "../../domain/governance/decide";
import { notify } from "./notify";
import { assertRoomToAsk } from "./requests";

/** The decision for each of these sessions (unknown ids are absent). */
async function recordingAccessFor(db: Database, person: SignedInUser, sessionIds: string[], at = new Date()): Promise<Map<string, RecordingAccess & { targetName: string }>> {
  const ids = [...new Set(sessionIds.filter(isUuid))];
  if (ids.length === 0) return new Map();
  const [policies, rows, assignments, requests] = await Promise.all([
    loadPolicies(db),
    db.select({ id: sessions.id, targetName: sessions.targetName, tags: targets.tags }).from(sessions).leftJoin(targets, eq(targets.id, sessions.targetId)).where(inArray(sessions.id, ids)),
    db.select({ sessionId: sessionAudits.sessionId, policyId: sessionAudits.policyId }).from(sessionAudits).where(inArray(sessionAudits.sessionId, ids)),
    db
      .select({ id: accessRequests.id, sessionId: accessRequests.sessionId, windowStartsAt: accessRequests.windowStartsAt, windowEndsAt: accessRequests.windowEndsAt })
      .from(accessRequests)
      .where(and(eq(accessRequests.kind, "recording"), eq(accessRequests.requesterId, person.id), eq(accessRequests.status, "approved"), inArray(accessRequests.sessionId, ids))),
  ]);
  return new Map(
    rows.map((row) => [
      row.id,
      {
        targetName: row.targetName,
        ...decideRecordingAccess({
          person,
          // A removed target is known by the name its sessions kept.
          target: { name: row.targetName, tags: row.tags ?? [] },
          policies,
          auditedUnder: assignments.filter((assignment) => assignment.sessionId === row.id).map((assignment) => assignment.policyId),
          requests: requests.filter((request) => request.sessionId === row.id),
          at,
        }),
      },
    ]),
  );
}

export async function recordingAccess(db: Database, person: SignedInUser, sessionId: string) {
  return (await recordingAccessFor(db, person, [sessionId])).get(sessionId);
}

/** For every route that reads a recording: 404 for an unknown one, 403 with the reason otherwise; refusals audited (hourly per reader). */
export async function requireRecordingAccess(db: Database, person: SignedInUser, actor: Actor, sessionId: string) {
  const access = await recordingAccess(db, person, sessionId);
  if (!access) throw notFound("Recording");
  if (!access.allowed) {
    await auditRecordingRefusal(db, actor, sessionId, access.reason);
    throw new ApiError(403, `You may not open this recording: ${access.reason}`);
  }
  return access;
}

/** Transcript search, showing only lines of recordings the person may open. */
export async function searchReadableTranscripts(db: Database, person: SignedInUser, query: string) {
  const hits = await searchTranscripts(db, query);
  const access = await recordingAccessFor(db, person, hits.map((hit) => hit.sessionId));
  return hits.filter((hit) => access.get(hit.sessionId)?.allowed);
}

/** A reviewer asks to open one recording, saying why; approvers of the policies covering its target decide. */
export async function requestRecordingAccess(db: Database, actor: Actor, person: SignedInUser, sessionId: string, input: { justification: string; durationMinutes: number }) {
  const access = await recordingAccess(db, person, sessionId);
  if (!access) throw notFound("Recording");
  if (access.allowed) throw new ApiError(409, "You may already open this recording");
  if (!access.requestable) throw new ApiError(403, `You may not ask for this recording: ${access.reason}`);
  await assertRoomToAsk(db, person.id);
  const [session] = await db.select({ targetId: sessions.targetId, targetName: sessions.targetName, tags: targets.tags }).from(sessions).leftJoin(targets, eq(targets.id, sessions.targetId)).where(eq(sessions.id, sessionId));
  const [waiting] = await db
    .select({ id: accessRequests.id })
    .from(accessRequests)
    .where(and(eq(accessRequests.kind, "recording"), eq(accessRequests.requesterId, person.id), eq(accessRequests.sessionId, sessionId), eq(accessRequests.status, "pending")));
  if (waiting) throw new ApiError(409, "Your request for this recording is waiting for approval", { justification: "Your request for this recording is waiting for approval" });
  const covering = (await loadPolicies(db)).filter((policy) => policyCovers(policy, { name: session!.targetName, tags: session!.tags ?? [] }));
  const [created] = await db
    .insert(accessRequests)
    .values({
      kind: "recording",
      sessionId,
      requesterId: person.id,
      activityName: "Recording access",
      targetIds: session!.targetId ? [session!.targetId] : [],
      notes: input.justification,
      startsAt: new Date(),
      durationMinutes: input.durationMinutes,
      status: "pending",
      requiredApprovals: Math.max(1, ...covering.map((policy) => policy.requiredApprovals)),
    })
    .returning({ id: accessRequests.id });
  await audit(db, actor, { action: "request.create", objectType: "access_request", objectId: created!.id, details: { kind: "recording", sessionId, target: session!.targetName, justification: input.justification } });
  await notify(db, { kind: "request.created", requestId: created!.id, by: person.username });
  return created!;
}
