// Session rows: who reached what, from which node, when, for how long, how it ended, how many bytes.
import { eq } from "drizzle-orm";
import type { Database } from "./db/client";
import { sessions } from "./db/schema";
import type { EndReason } from "./protocol/terminal";
import type { Protocol } from "./protocol/domain";

export async function openSessionRow(db: Database, row: { userId: string; targetId: string; targetName: string; protocol: Protocol; node: string }) {
  const [created] = await db
    .insert(sessions)
    .values({ ...row, status: "connecting" })
    .returning({ id: sessions.id, startedAt: sessions.startedAt });
  return created!;
}

export async function markSessionActive(db: Database, id: string) {
  await db.update(sessions).set({ status: "active" }).where(eq(sessions.id, id));
}

export async function closeSessionRow(db: Database, id: string, end: { reason: EndReason; bytesFromUser: number; bytesToUser: number }) {
  await db
    .update(sessions)
    .set({ status: "ended", endedAt: new Date(), endReason: end.reason, bytesFromUser: end.bytesFromUser, bytesToUser: end.bytesToUser })
    .where(eq(sessions.id, id));
}
