// `gatehouse recordings …`: a recording downloaded in its players' format, its integrity checked, or a terminal
// recording played here (with its timing, or as plain text for grep).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { castEventSchema, castHeaderSchema, exportKindOf, recordingExports, type RecordingVerdict } from "../lib/protocol/recordings";
import type { Protocol } from "../lib/protocol/domain";
import { signatureHolds } from "../lib/infra/export-signing";
import { exportSignatureSchema, type ExportSignature, type SigningKey } from "../lib/protocol/export-signature";
import type { VideoExportView, VideoFormatName } from "../lib/protocol/video-exports";
import { OutputLineTracker } from "../lib/domain/transcript-lines";
import { CliError, type GatewayClient } from "./gateway-client";
import { amountOfData } from "../lib/domain/format";
import { ProgressBar } from "./output";
import { findSession } from "./sessions";

/** How far into the recording a piece of the export reaches, in ms from the session's start, by its kind's clock. */
const reachedMs = {
  // asciicast lines start with the event's second.
  terminal: (text: string, _startedAt: number, _first: { sync?: number }) => last(text, /\n\[(\d+(?:\.\d+)?),/g, (seconds) => seconds * 1000),
  // Guacamole's `sync` carries the frame's timestamp; the first one is the recording's start.
  desktop: (text: string, _startedAt: number, first: { sync?: number }) =>
    last(text, /4\.sync,\d+\.(\d+)[;,]/g, (stamp) => {
      first.sync ??= stamp;
      return stamp - first.sync;
    }),
  // rrweb events carry the wall-clock time they happened.
  web: (text: string, startedAt: number) => last(text, /"timestamp":(\d+)/g, (stamp) => stamp - startedAt),
};

function last(text: string, pattern: RegExp, toMs: (value: number) => number): number | null {
  let value: number | null = null;
  for (const match of text.matchAll(pattern)) value = toMs(Number(match[1]));
  return value;
}

async function* piecesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const piece of piecesOf(body)) {
    pending += decoder.decode(piece, { stream: true });
    const parts = pending.split("\n");
    pending = parts.pop()!;
    yield* parts;
  }
  if (pending) yield pending;
}

/** Saves the recording as `.cast`, `.guac` or rrweb `.json` (`-` writes it to stdout), with a progress bar. */
export async function exportRecording(client: GatewayClient, id: string, file: string | undefined) {
  const session = await findSession(client, id);
  const kind = exportKindOf(session.protocol as Protocol);
  const target = file ?? `gatehouse-${session.id}.${recordingExports[kind].extension}`;
  const response = await client.request("GET", `/api/recordings/${encodeURIComponent(id)}/export`);
  const startedAt = Date.parse(session.startedAt);
  const lengthMs = Math.max(1, (session.endedAt ? Date.parse(session.endedAt) : Date.now()) - startedAt);
  const out = target === "-" ? process.stdout : createWriteStream(target, { mode: 0o600 });
  const progress = new ProgressBar(`Exporting ${session.id.slice(0, 8)}`);
  const first: { sync?: number } = {};
  let received = 0;
  let reached = 0;
  const decoder = new TextDecoder();
  for await (const piece of piecesOf(response.body!)) {
    received += piece.length;
    reached = reachedMs[kind](decoder.decode(piece, { stream: true }), startedAt, first) ?? reached;
    progress.update(reached / lengthMs, amountOfData(received));
    if (!out.write(piece)) await once(out, "drain");
  }
  progress.done(amountOfData(received));
  if (out !== process.stdout) {
    out.end();
    await once(out, "close");
    const signature = await client.json<ExportSignature>("GET", `/api/recordings/${encodeURIComponent(id)}/export/signature`);
    writeFileSync(`${target}.sig`, `${JSON.stringify(signature, null, 2)}\n`, { mode: 0o600 });
    process.stderr.write(`Saved ${amountOfData(received)} to ${target} (${recordingExports[kind].extension}), its signature to ${target}.sig.\n`);
  }
}

const videoPollMs = 1000;

/** Asks for a video of a desktop recording, shows its rendering as it goes, then saves it and its signature. */
export async function exportVideo(client: GatewayClient, id: string, format: VideoFormatName, file: string | undefined) {
  const base = `/api/recordings/${encodeURIComponent(id)}/video-exports`;
  let video = await client.json<VideoExportView>("POST", base, { format });
  const progress = new ProgressBar(`Rendering ${format.toUpperCase()}`);
  while (video.status === "queued" || video.status === "rendering") {
    progress.update(video.progress, video.status === "queued" ? "waiting for a node" : "");
    await sleep(videoPollMs);
    const current = (await client.json<VideoExportView[]>("GET", base)).find((candidate) => candidate.id === video.id);
    if (!current) throw new CliError("the video export is gone");
    video = current;
  }
  if (video.status === "failed") throw new CliError(`the video could not be made: ${video.error}`);
  progress.done("");
  const target = file ?? `gatehouse-${video.sessionId}.${format}`;
  const response = await client.request("GET", `${base}/${video.id}/file`);
  writeFileSync(target, Buffer.from(await response.arrayBuffer()), { mode: 0o600 });
  const signature = await client.json<ExportSignature>("GET", `${base}/${video.id}/signature`);
  writeFileSync(`${target}.sig`, `${JSON.stringify(signature, null, 2)}\n`, { mode: 0o600 });
  process.stderr.write(`Saved ${amountOfData(video.bytes ?? 0)} to ${target}, its signature to ${target}.sig.\n`);
}

/**
 * Whether an exported file is, byte for byte, what the gateway signed: its hash against the signature, the
 * signature against its key, and the key against the gateway's own (current or rotated out). Exit code 1 if not.
 */
export async function verifyExportFile(client: GatewayClient, file: string, signatureFile = `${file}.sig`): Promise<number> {
  let signature: ExportSignature;
  try {
    signature = exportSignatureSchema.parse(JSON.parse(readFileSync(signatureFile, "utf8")));
  } catch (error) {
    throw new CliError(`${signatureFile} is not an export signature: ${(error as Error).message.split("\n")[0]}`);
  }
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const piece of createReadStream(file)) {
    hash.update(piece as Buffer);
    bytes += (piece as Buffer).length;
  }
  const sha256 = hash.digest("hex");
  const fail = (why: string) => (process.stdout.write(`NOT VERIFIED: ${why}\n`), 1);
  if (sha256 !== signature.sha256 || bytes !== signature.bytes) return fail(`${file} is not the file that was signed (SHA-256 ${sha256}, ${bytes} bytes; signed: ${signature.sha256}, ${signature.bytes} bytes)`);
  if (!signatureHolds(signature)) return fail(`the signature in ${signatureFile} does not hold: it was altered, or made by someone else`);
  const keys = await client.json<SigningKey[]>("GET", "/api/recordings/signing-keys");
  if (!keys.some((key) => key.keyId === signature.keyId && key.publicKey === signature.publicKey)) return fail(`signed with key ${signature.keyId}, which is not one of ${client.url.origin}'s signing keys`);
  process.stdout.write(`verified: ${file} is the export of session ${signature.sessionId} as ${client.url.origin} signed it at ${signature.signedAt} (key ${signature.keyId})\n`);
  return 0;
}

/** Whether every chunk is there, unaltered and in order; exit code 1 when not. */
export async function verifyRecording(client: GatewayClient, id: string): Promise<number> {
  const verdict = await client.json<RecordingVerdict>("GET", `/api/recordings/${encodeURIComponent(id)}/verify`);
  if (verdict.intact) {
    process.stdout.write(`intact: ${verdict.chunks} chunks, ${verdict.sealed ? "sealed at the session's end" : "not sealed yet (still recording, or ended without a seal)"}\n`);
    return 0;
  }
  process.stdout.write(`NOT INTACT: ${verdict.problem} at chunk ${verdict.brokenAtSeq} of ${verdict.chunks}${verdict.detail ? ` (${verdict.detail})` : ""}\n`);
  return 1;
}

/**
 * A terminal recording played in this terminal with its own timing (`speed` times faster, pauses cut to
 * `maxIdleMs`), or as plain text: the lines shown, without control sequences, for grep.
 */
export async function playRecording(client: GatewayClient, id: string, options: { text: boolean; speed: number; maxIdleMs: number }) {
  const response = await client.request("GET", `/api/recordings/${encodeURIComponent(id)}/export`);
  if (response.headers.get("x-recording-kind") !== "terminal") {
    await response.body?.cancel();
    throw new CliError(`only terminal recordings play here; export this one and open it in the player (${new URL(`/recordings/${id}`, client.url)})`);
  }
  const tracker = new OutputLineTracker();
  let header = false;
  let previousSeconds = 0;
  for await (const line of lines(response.body!)) {
    if (!header) {
      if (!castHeaderSchema.safeParse(JSON.parse(line)).success) throw new CliError("the recording does not start with an asciicast v2 header");
      header = true;
      continue;
    }
    const event = castEventSchema.safeParse(JSON.parse(line));
    if (!event.success || event.data[1] !== "o") continue;
    const [seconds, , data] = event.data;
    if (options.text) {
      const shown = tracker.write(data);
      if (shown.length > 0) process.stdout.write(`${shown.join("\n")}\n`);
      continue;
    }
    const pauseMs = Math.min(options.maxIdleMs, ((seconds - previousSeconds) * 1000) / options.speed);
    previousSeconds = seconds;
    if (pauseMs > 0) await sleep(pauseMs);
    if (!process.stdout.write(data)) await once(process.stdout, "drain");
  }
  if (options.text) {
    const rest = tracker.end();
    if (rest.length > 0) process.stdout.write(`${rest.join("\n")}\n`);
  }
}
