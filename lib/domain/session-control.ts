// Security's controls over a live session, asked for on any node: audited here with actor and reason, then
// carried by the control bus to the node that runs the session, which applies them and answers.
import { audit, type Actor } from "../data/audit";
import { ApiError, notFound } from "./errors";
import { findHold } from "../data/command-policy/holds";
import { isUuid } from "./ids";
import type { HoldDecision } from "../protocol/command-rules";
import type { ControlRequest } from "../protocol/live";
import { revokeRequestOfSession } from "../data/governance/requests";
import { revokeAccess } from "../data/revocations";
import type { Runtime } from "../infra/runtime";
import { findSession, liveSessionsOf } from "../data/sessions";

/** An admin ends every live session of one person, on every node; each end and the whole are audited. */
export async function endSessionsOfUser({ db, controlBus }: Runtime, actor: Actor, userId: string, reason: string) {
  const live = await liveSessionsOf(db, userId);
  let ended = 0;
  for (const session of live) {
    const reply = await controlBus.send({ node: session.node, sessionId: session.id, action: "terminate", reason, actorName: actor.name });
    if (reply.ok) ended += 1;
    await audit(db, actor, { action: "session.terminate", outcome: reply.ok ? "success" : "failure", objectType: "session", objectId: session.id, details: { reason, target: session.targetName, result: reply.message } });
  }
  await audit(db, actor, { action: "user.end_sessions", objectType: "user", objectId: userId, details: { reason, live: live.length, ended } });
  return { live: live.length, ended };
}

/** The request may have ended already (expired, cancelled): the access is cancelled all the same. */
const ignoreClosedRequest = (error: unknown) => {
  if (!(error instanceof ApiError && error.status === 409)) throw error;
};

export async function controlSession({ db, controlBus }: Runtime, actor: Actor, sessionId: string, { action, reason }: ControlRequest) {
  const session = await findSession(db, sessionId);
  if (!session) throw notFound("Session");
  const details = { reason, user: session.username, target: session.targetName, node: session.node };
  if (session.status === "ended") {
    await audit(db, actor, { action: `session.${action}`, outcome: "refused", objectType: "session", objectId: session.id, details: { ...details, problem: "already ended" } });
    throw new ApiError(409, "This session has already ended");
  }
  if (action === "terminate_and_cancel" && session.targetId) {
    // Cancelled first: the user cannot reconnect in the moment between the end and the revocation.
    await revokeAccess(db, { userId: session.userId, targetId: session.targetId, revokedBy: actor.name, reason });
    if (session.requestId) await revokeRequestOfSession(db, actor, session.requestId, reason).catch(ignoreClosedRequest);
  }
  const reply = await controlBus.send({ node: session.node, sessionId: session.id, action, reason, actorName: actor.name });
  await audit(db, actor, { action: `session.${action}`, outcome: reply.ok ? "success" : "failure", objectType: "session", objectId: session.id, details: { ...details, result: reply.message } });
  if (!reply.ok) throw new ApiError(reply.message.includes("did not answer") ? 504 : 409, `The session could not be controlled: ${reply.message}`);

  if (action === "terminate_and_cancel" && session.targetId) {
    // The user's other live sessions on that target end too: the access they relied on is gone.
    const others = await liveSessionsOf(db, session.userId, { targetId: session.targetId, except: session.id });
    for (const other of others) {
      const ended = await controlBus.send({ node: other.node, sessionId: other.id, action: "terminate", reason: `access cancelled: ${reason}`, actorName: actor.name });
      await audit(db, actor, { action: "session.terminate", outcome: ended.ok ? "success" : "failure", objectType: "session", objectId: other.id, details: { reason: `access cancelled: ${reason}`, result: ended.message } });
    }
  }
  return { ok: true, message: reply.message };
}

/** Security answers a command or request the command policy holds, on whichever node holds it. */
export async function decideHold({ db, controlBus }: Runtime, actor: Actor, sessionId: string, holdId: string, { decision, reason }: HoldDecision) {
  const session = await findSession(db, sessionId);
  const hold = session && isUuid(holdId) ? await findHold(db, holdId) : undefined;
  if (!session || !hold || hold.sessionId !== session.id) throw notFound("Held command");
  const reply = hold.outcome
    ? { ok: false, message: `it was already ${hold.outcome.replace("_", " ")}` }
    : await controlBus.send({ node: hold.node, sessionId: session.id, action: decision === "approve" ? "approve_hold" : "deny_hold", holdId, reason, actorName: actor.name });
  await audit(db, actor, { action: `session.hold_${decision}`, outcome: reply.ok ? "success" : "failure", objectType: "session", objectId: session.id, details: { holdId, reason, subject: hold.subject, rule: hold.ruleName, user: session.username, target: session.targetName, result: reply.message } });
  if (!reply.ok) throw new ApiError(reply.message.includes("did not answer") ? 504 : 409, `No decision was taken: ${reply.message}`);
  return { ok: true, message: reply.message };
}
