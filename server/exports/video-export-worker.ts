// Takes video export jobs from the queue, one at a time per node (rendering is CPU-bound: it must not starve the
// sessions this node carries), renders the recording, stores the video in the blob store and tells the person who
// asked. The job's progress is on its row for the recording page and the command line.
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { audit, systemActor } from "../../lib/data/audit";
import { jobNames } from "../../lib/infra/job-queue";
import { log } from "../../lib/infra/log";
import { exportRecording, findRecording } from "../../lib/data/recordings";
import type { Runtime } from "../../lib/infra/runtime";
import { findSession } from "../../lib/data/sessions";
import { queueNotification } from "../../lib/data/notifications";
import { findUserById } from "../../lib/data/users";
import { noteRenderingProgress, renderingDone, renderingFailed, startRendering } from "../../lib/data/video-exports";
import type { PageEvent } from "../../lib/protocol/page-recorder";
import { renderDesktopVideo } from "./desktop-video";
import { renderWebVideo } from "./web-video";

/** A web visit's events are replayed from memory: past this, the rrweb download is the way. */
const largestWebRecording = 256 * 2 ** 20;
/** Progress is written at most this often: a long render would otherwise write its row hundreds of times. */
const progressEveryMs = 1000;

async function* exportText(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  for (let piece = await reader.read(); !piece.done; piece = await reader.read()) yield decoder.decode(piece.value, { stream: true });
}

/** A web visit's events, read whole (the replay needs them all), within a bound. */
async function webEvents(stream: AsyncIterable<string>): Promise<PageEvent[]> {
  const parts: string[] = [];
  let length = 0;
  for await (const text of stream) {
    length += text.length;
    if (length > largestWebRecording) throw new Error(`the visit's recording is over ${largestWebRecording / 2 ** 20} MiB of events, more than a replay takes; download its rrweb events instead`);
    parts.push(text);
  }
  const events = JSON.parse(parts.join("")) as PageEvent[];
  if (events.length === 0) throw new Error("the visit's recording holds no events");
  return events;
}

async function render(runtime: Runtime, exportId: string) {
  const { db, blobStore } = runtime;
  const job = await startRendering(db, exportId);
  if (!job) return;
  const outputPath = path.join(tmpdir(), `gatehouse-video-${exportId}.${job.format}`);
  try {
    const [session, chunks] = await Promise.all([findSession(db, job.sessionId), findRecording(db, job.sessionId)]);
    if (!session) throw new Error("the session is gone");
    let written = 0;
    const onProgress = (share: number) => {
      if (Date.now() - written < progressEveryMs) return;
      written = Date.now();
      noteRenderingProgress(db, exportId, share).catch((error) => log.warn({ err: error, sessionId: job.sessionId }, "noting a video export's progress failed"));
    };
    const stream = exportText(exportRecording(db, blobStore, chunks, session.protocol));
    const rendered =
      session.protocol === "web"
        ? await renderWebVideo(await webEvents(stream), { format: job.format, outputPath, browserPath: runtime.config.chromiumPath, onProgress })
        : await renderDesktopVideo(stream, { durationMs: chunks.at(-1)!.endMs, format: job.format, outputPath, onProgress });
    const video = await readFile(outputPath);
    const blobKey = `exports/${exportId}.${job.format}`;
    await blobStore.put(blobKey, video);
    const sha256 = createHash("sha256").update(video).digest("hex");
    await renderingDone(db, exportId, { blobKey, bytes: video.length, sha256 });
    await audit(db, systemActor, { action: "recording.video_export", objectType: "session", objectId: job.sessionId, details: { exportId, format: job.format, status: "ready", bytes: video.length, frames: rendered.frames } });
    const requester = await findUserById(db, job.requestedBy);
    const subject = `Your ${job.format.toUpperCase()} video of ${session.username}'s session on ${session.targetName} is ready`;
    await queueNotification(db, {
      kind: "export.ready",
      recipients: requester?.email ? [requester.email] : [],
      subject,
      body: `${subject}: ${(video.length / 2 ** 20).toFixed(1)} MiB, ${rendered.width}×${rendered.height}. Download it from the recording's page.`,
      payload: { kind: "export.ready", exportId, sessionId: job.sessionId, format: job.format, requestedBy: requester?.username ?? null, link: `/recordings/${job.sessionId}` },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await renderingFailed(db, exportId, message);
    await audit(db, systemActor, { action: "recording.video_export", outcome: "failure", objectType: "session", objectId: job.sessionId, details: { exportId, format: job.format, error: message.slice(0, 500) } });
    log.error({ err: error, sessionId: job.sessionId }, `video export ${exportId} failed`);
  } finally {
    await rm(outputPath, { force: true });
  }
}

export async function startVideoExportWorker(runtime: Runtime) {
  await runtime.jobs.work<{ exportId: string }>(jobNames.videoExport, { batchSize: 1, pollingIntervalSeconds: 2 }, async ([job]) => {
    if (job) await render(runtime, job.data.exportId);
  });
}
