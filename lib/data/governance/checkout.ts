// Password checkout: where every policy that binds a person on a target allows it, and only while an approved
// request is in its window, the person may see the target's password for a few seconds. Every reveal is audited;
// a policy that rotates after checkout marks the credential, and the Credentials page shows it. Keys never leave.
import { eq } from "drizzle-orm";
import { audit, type Actor } from "../audit";
import type { SignedInUser } from "../../auth/current-user";
import { openCredential } from "../credentials";
import { credentials } from "../schema";
import { ApiError, notFound } from "../../domain/errors";
import type { Runtime } from "../../infra/runtime";
import { sessionTexts } from "../settings";
import { findTarget } from "../targets";
import { decideAccess } from "./access";

export async function checkOutPassword({ db, vault }: Runtime, actor: Actor, person: SignedInUser, targetId: string) {
  const target = await findTarget(db, targetId);
  const decision = target ? await decideAccess(db, person, target, actor.sourceIp) : undefined;
  const refuse = async (error: ApiError, reason: string) => {
    await audit(db, actor, { action: "credential.reveal", outcome: "refused", objectType: "target", objectId: targetId, details: { target: target?.name, reason } });
    return error;
  };
  if (!target || !decision || (!decision.allowed && decision.code === "not_listed")) throw await refuse(notFound("Target"), "not listed");
  if (!decision.allowed) throw await refuse(new ApiError(403, `Access refused: ${decision.reason}`), decision.reason);
  if (!decision.mayRevealCredential) throw await refuse(new ApiError(403, `The policies of ${target.name} do not let you see its password`), "not allowed by policy");
  const login = target.credentialId ? await openCredential(db, vault, target.credentialId) : undefined;
  if (!login) throw await refuse(new ApiError(409, `${target.name} has no credential`), "no credential");
  if (login.kind !== "password") throw await refuse(new ApiError(403, "Private keys are never shown"), "private key");
  await audit(db, actor, { action: "credential.reveal", objectType: "target", objectId: target.id, details: { target: target.name, credentialId: target.credentialId, username: login.username, requestId: decision.requestId } });
  if (decision.rotateAfterCheckout) {
    const reason = `shown to ${person.username} for ${target.name}`;
    await db.update(credentials).set({ rotationDueAt: new Date(), rotationDueReason: reason }).where(eq(credentials.id, target.credentialId!));
    await audit(db, actor, { action: "credential.rotation_due", objectType: "credential", objectId: target.credentialId!, details: { reason } });
  }
  const { revealSeconds } = await sessionTexts(db);
  // Never cached, by the browser or anything between.
  return Response.json({ username: login.username, password: login.secret, hideAfterSeconds: revealSeconds }, { headers: { "cache-control": "no-store" } });
}
