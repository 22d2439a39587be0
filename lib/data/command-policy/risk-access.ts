// Who may read a session's risk analysis: security and admins (they oversee live sessions), and whoever may
// open its recording (reviewers under the recording access decision).
import type { Actor } from "../audit";
import { hasRole, type SignedInUser } from "../../auth/current-user";
import type { Database } from "../client";
import { notFound } from "../../domain/errors";
import { requireRecordingAccess } from "../governance/recording-access";
import { findSession } from "../sessions";
import { riskAnalysis } from "./risk";

export async function readRiskAnalysis(db: Database, person: SignedInUser, actor: Actor, sessionId: string) {
  const session = await findSession(db, sessionId);
  if (!session) throw notFound("Session");
  if (!hasRole(person, ["security", "admin"])) await requireRecordingAccess(db, person, actor, sessionId);
  return { session, events: await riskAnalysis(db, session) };
}
