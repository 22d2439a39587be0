// Video exports of desktop and web recordings: asked for here (a row and a job), rendered by the worker
// (server/exports/), downloaded when ready. A person sees the exports they asked for; admins see all.
import { and, desc, eq } from "drizzle-orm";
import { audit, type Actor } from "./audit";
import type { SignedInUser } from "../auth/current-user";
import type { Database } from "./client";
import { sessions, users, videoExports } from "./schema";
import { ApiError, notFound } from "../domain/errors";
import { isUuid } from "../domain/ids";
import { jobNames, type JobQueue } from "../infra/job-queue";
import type { VideoExportView, VideoFormatName } from "../protocol/video-exports";

export type VideoExportRow = typeof videoExports.$inferSelect;

function view(row: VideoExportRow, requestedBy: string): VideoExportView {
  return {
    id: row.id,
    sessionId: row.sessionId,
    format: row.format,
    status: row.status,
    progress: Math.round(row.progress * 1000) / 1000,
    requestedBy,
    bytes: row.bytes,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

export async function requestVideoExport(db: Database, jobs: JobQueue, actor: Actor, user: SignedInUser, sessionId: string, format: VideoFormatName): Promise<VideoExportView> {
  const [session] = await db.select({ protocol: sessions.protocol }).from(sessions).where(eq(sessions.id, sessionId));
  if (!session) throw notFound("Recording");
  if (session.protocol === "ssh") throw new ApiError(400, "A terminal session exports as an asciicast file (Download), which keeps its text; a video of one is not made here");
  const [row] = await db.insert(videoExports).values({ sessionId, requestedBy: user.id, format }).returning();
  await jobs.send(jobNames.videoExport, { exportId: row!.id });
  await audit(db, actor, { action: "recording.video_export", objectType: "session", objectId: sessionId, details: { exportId: row!.id, format, status: "queued" } });
  return view(row!, user.username);
}

export async function listVideoExports(db: Database, user: SignedInUser, sessionId: string): Promise<VideoExportView[]> {
  const rows = await db
    .select({ row: videoExports, requestedBy: users.username })
    .from(videoExports)
    .innerJoin(users, eq(users.id, videoExports.requestedBy))
    .where(and(eq(videoExports.sessionId, sessionId), user.roles.includes("admin") ? undefined : eq(videoExports.requestedBy, user.id)))
    .orderBy(desc(videoExports.createdAt));
  return rows.map(({ row, requestedBy }) => view(row, requestedBy));
}

/** One export of the recording, if the caller may have it: theirs, or any for admins. */
export async function findVideoExport(db: Database, user: SignedInUser, sessionId: string, exportId: string | undefined): Promise<VideoExportRow> {
  const [row] = isUuid(exportId) ? await db.select().from(videoExports).where(and(eq(videoExports.id, exportId), eq(videoExports.sessionId, sessionId))) : [];
  if (!row || (row.requestedBy !== user.id && !user.roles.includes("admin"))) throw notFound("Video export");
  if (row.status !== "ready" || !row.blobKey) throw new ApiError(409, row.status === "failed" ? `This export failed: ${row.error}` : "This export is not ready yet");
  return row;
}

// ── The worker's side (server/exports/video-export-worker.ts) ─────────────────────────────────────────────

/** Takes up an export to render: its row, now rendering from the start; undefined when gone or already done. */
export async function startRendering(db: Database, exportId: string): Promise<VideoExportRow | undefined> {
  const [job] = await db.select().from(videoExports).where(eq(videoExports.id, exportId));
  if (!job || job.status === "ready") return undefined;
  await db.update(videoExports).set({ status: "rendering", progress: 0, error: null }).where(eq(videoExports.id, exportId));
  return job;
}

export async function noteRenderingProgress(db: Database, exportId: string, progress: number) {
  await db.update(videoExports).set({ progress }).where(eq(videoExports.id, exportId));
}

export async function renderingDone(db: Database, exportId: string, video: { blobKey: string; bytes: number; sha256: string }) {
  await db.update(videoExports).set({ status: "ready", progress: 1, ...video, finishedAt: new Date() }).where(eq(videoExports.id, exportId));
}

export async function renderingFailed(db: Database, exportId: string, error: string) {
  await db.update(videoExports).set({ status: "failed", error: error.slice(0, 500), finishedAt: new Date() }).where(eq(videoExports.id, exportId));
}
