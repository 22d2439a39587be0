// The logon notice (acceptable-use banner) that policies may require people to accept before they connect. An
// acceptance holds for twelve hours and for the notice as it read then: editing the notice asks everyone again.
import { createHash } from "node:crypto";
import { and, eq, gt } from "drizzle-orm";
import { audit, type Actor } from "../audit";
import type { Database } from "../client";
import { noticeAcceptances } from "../schema";
import { sessionTexts } from "../settings";

const acceptanceLastsMs = 12 * 3600_000;
const digest = (notice: string) => createHash("sha256").update(notice).digest("hex");

/** The targets whose notice this person has accepted as it reads now; every target when there is no notice. */
export async function acceptedNotices(db: Database, userId: string, at = new Date()): Promise<{ notice: string | null; accepted: (targetId: string) => boolean }> {
  const { logonNotice } = await sessionTexts(db);
  if (!logonNotice) return { notice: null, accepted: () => true };
  const rows = await db
    .select({ targetId: noticeAcceptances.targetId })
    .from(noticeAcceptances)
    .where(and(eq(noticeAcceptances.userId, userId), eq(noticeAcceptances.noticeSha256, digest(logonNotice)), gt(noticeAcceptances.acceptedAt, new Date(at.getTime() - acceptanceLastsMs))));
  const targetIds = new Set(rows.map((row) => row.targetId));
  return { notice: logonNotice, accepted: (targetId) => targetIds.has(targetId) };
}

/** The person accepted the notice they were shown; audited with its digest, so what they agreed to is known. */
export async function acceptNotice(db: Database, actor: Actor, userId: string, target: { id: string; name: string }) {
  const { logonNotice } = await sessionTexts(db);
  if (!logonNotice) return;
  const noticeSha256 = digest(logonNotice);
  await db
    .insert(noticeAcceptances)
    .values({ userId, targetId: target.id, noticeSha256 })
    .onConflictDoUpdate({ target: [noticeAcceptances.userId, noticeAcceptances.targetId], set: { noticeSha256, acceptedAt: new Date() } });
  await audit(db, actor, { action: "notice.accept", objectType: "target", objectId: target.id, details: { target: target.name, noticeSha256 } });
}
