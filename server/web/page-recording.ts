// An HTML page from the app, given the recorder: read whole, decoded, the tag added, the app's policy widened
// for it. Everything is bounded on decoded bytes: a page is recorded only if it fits the page limit once
// decoded, in at most one content coding the gateway knows, and zlib is never asked for more than the limit.
// A page that does not qualify goes to the browser exactly as the app sent it, unrecorded, and says so on the
// session's timeline.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { brotliDecompress, gunzip, inflate, type ZlibOptions } from "node:zlib";
import { recorderScript } from "./recorder-script/bundle";
import { allowRecorder, injectRecorder, recorderAllowance } from "./recorder-injection";

/**
 * A page larger than this, as sent or once decoded, is passed on without the recorder rather than held. Real pages
 * are far smaller; what a bomb costs is this much output per decode until the garbage collector reclaims it, so it
 * is kept well under the point where V8 collects external memory (~64 MiB), with two decodes at once.
 */
export const recordablePageLimit = 8 * 1024 * 1024;
/**
 * Pages decoded and rewritten at once, per gateway: with the limit above, what decoding can hold at any moment
 * stays bounded however many bombs arrive together; the others wait their turn (a page takes milliseconds).
 */
const decodingSlots = 2;

let freeSlots = decodingSlots;
const waitingForSlot: (() => void)[] = [];

async function withDecodingSlot<T>(work: () => Promise<T>): Promise<T> {
  if (freeSlots > 0) freeSlots -= 1;
  else await new Promise<void>((resolve) => waitingForSlot.push(resolve));
  try {
    return await work();
  } finally {
    const next = waitingForSlot.shift();
    if (next) next();
    else freeSlots += 1;
  }
}

type Decoder = (body: Buffer, options: ZlibOptions) => Promise<Buffer>;
const decoders: Record<string, Decoder> = {
  gzip: promisify(gunzip) as Decoder,
  "x-gzip": promisify(gunzip) as Decoder,
  deflate: promisify(inflate) as Decoder,
  br: promisify(brotliDecompress) as Decoder,
};

export type PageDecoding = { ok: true; html: Buffer } | { ok: false; reason: string };

/** The page as HTML, decoded within `limit` bytes, or why it is not recorded. */
export async function decodePage(body: Buffer, contentEncoding: string | undefined, limit = recordablePageLimit): Promise<PageDecoding> {
  const encodings = (contentEncoding ?? "")
    .split(",")
    .map((encoding) => encoding.trim().toLowerCase())
    .filter((encoding) => encoding && encoding !== "identity");
  if (encodings.length > 1) return { ok: false, reason: `more than one content coding (${encodings.join(", ")})` };
  const [encoding] = encodings;
  if (encoding === undefined) return body.length > limit ? { ok: false, reason: "too large" } : { ok: true, html: body };
  const decode = decoders[encoding];
  if (!decode) return { ok: false, reason: `content coding ${encoding.slice(0, 40)} is not decoded by the gateway` };
  try {
    return { ok: true, html: await decode(body, { maxOutputLength: limit }) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, reason: code === "ERR_BUFFER_TOO_LARGE" ? "too large" : `not valid ${encoding}` };
  }
}

/** Reads a body until its end, or until it passes `limit` (the stream is then left paused where it stopped). */
function readUpTo(body: IncomingMessage, limit: number): Promise<{ parts: Buffer[]; size: number; overflow: boolean }> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const settle = (overflow: boolean) => {
      body.off("data", onData).off("end", onEnd).off("error", onError);
      resolve({ parts, size, overflow });
    };
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      body.pause();
      settle(true);
    };
    const onEnd = () => settle(false);
    const onError = (error: Error) => {
      body.off("data", onData).off("end", onEnd).off("error", onError);
      reject(error);
    };
    body.on("data", onData).once("end", onEnd).once("error", onError);
  });
}

export interface RecordedPageOutcome {
  /** Bytes the app sent. */
  bytes: number;
  /** Why the page went out without the recorder; absent when it was recorded. */
  unrecorded?: string;
}

/**
 * Sends the app's page to the browser with the recorder in it, or as it came when it does not qualify.
 * `headers` are the response headers already rewritten for the browser.
 */
export async function sendRecordedPage(
  answer: IncomingMessage,
  response: ServerResponse,
  headers: OutgoingHttpHeaders,
  page: { origin: string; maskAllInputs: boolean },
): Promise<RecordedPageOutcome> {
  const status = answer.statusCode ?? 502;
  const { parts, size, overflow } = await readUpTo(answer, recordablePageLimit);
  if (overflow) {
    // Too large to hold: what was read goes out, then the rest as it comes.
    response.writeHead(status, headers);
    for (const held of parts) response.write(held);
    let rest = 0;
    answer.on("data", (chunk: Buffer) => (rest += chunk.length));
    await pipeline(answer, response);
    return { bytes: size + rest, unrecorded: "too large" };
  }
  const raw = Buffer.concat(parts);
  const body = await withDecodingSlot(async () => {
    const decoded = await decodePage(raw, answer.headers["content-encoding"]);
    if (!decoded.ok) return decoded;
    const allowance = recorderAllowance(page.origin, (await recorderScript()).hash);
    let nonce: string | null = null;
    const policy = headers["content-security-policy"];
    if (policy !== undefined) {
      const allowed = allowRecorder([policy].flat().join(", "), allowance);
      headers["content-security-policy"] = allowed.header;
      nonce = allowed.nonce;
    }
    return { ok: true as const, page: Buffer.from(injectRecorder(decoded.html.toString("utf8"), allowance, { nonce, maskAllInputs: page.maskAllInputs }), "utf8") };
  });
  if (!body.ok) {
    response.writeHead(status, headers);
    response.end(raw);
    return { bytes: raw.length, unrecorded: body.reason };
  }
  for (const stale of ["content-encoding", "content-length", "etag", "content-md5"]) delete headers[stale];
  headers["content-length"] = body.page.length;
  response.writeHead(status, headers);
  response.end(body.page);
  return { bytes: raw.length };
}
