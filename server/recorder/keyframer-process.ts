// The keyframer's child process: one headless terminal per recording being keyframed, fed the recording's
// chunks in order, serializing the screen when asked (and when the recording has been quiet for a minute, to
// free the terminal until its next chunk). Terminal emulation costs more CPU per byte than relaying
// and recording together, so it runs here, at low priority, instead of on the gateway's event loop; it may
// fall behind under a flood of output and catches up afterwards. A crash here costs keyframes, never sessions.
import { gunzipSync } from "node:zlib";
// Both packages are CommonJS bundles whose named exports Node cannot see from ESM: import the whole module.
import serialize from "@xterm/addon-serialize";
import headless from "@xterm/headless";
import { keyframeScrollback, parseChunk, parseResize, type Keyframe } from "../../lib/protocol/recordings";
import { ScrolledPastOutput } from "./scrolled-past";

export type KeyframerRequest =
  /** Start keyframing a recording, from its beginning or from a stored keyframe. */
  | { type: "begin"; sessionId: string; from: Keyframe | null }
  /** The next chunk (gzip as stored); `snapshot` asks for the screen after it. */
  | { type: "chunk"; sessionId: string; seq: number; gzip: Uint8Array; snapshot: boolean }
  | { type: "end"; sessionId: string };

export type KeyframerReply =
  | { type: "chunk-done"; sessionId: string; seq: number; keyframe: Keyframe | null }
  | { type: "chunk-failed"; sessionId: string; seq: number; problem: string };

/** A recording quiet this long gives up its terminal for the serialized screen; its next chunk restores it. */
const hibernateAfterMs = Number(process.argv[2]) || 60_000;

interface Emulator {
  terminal: InstanceType<typeof headless.Terminal>;
  serializer: InstanceType<typeof serialize.SerializeAddon>;
  /** What the terminal is fed through: a flood that scrolls past before the next keyframe is not emulated. */
  output: ScrolledPastOutput;
}

interface Screen {
  /** Null while hibernating: a thousand idle sessions hold a few KB each here, not a terminal each. */
  emulator: Emulator | null;
  sleeping: Keyframe | null;
  lastUsed: number;
  /** Requests for this recording are handled strictly in order. */
  queue: Promise<void>;
}

async function wake(from: Keyframe | null): Promise<Emulator> {
  const terminal = new headless.Terminal({ cols: from?.cols ?? 80, rows: from?.rows ?? 24, scrollback: keyframeScrollback, allowProposedApi: true });
  const serializer = new serialize.SerializeAddon();
  terminal.loadAddon(serializer);
  if (from) await new Promise<void>((resolve) => terminal.write(from.screen, resolve));
  return { terminal, serializer, output: new ScrolledPastOutput(terminal, keyframeScrollback) };
}

/** The screen now: what was held back is written first. */
async function snapshotOf({ terminal, serializer, output }: Emulator): Promise<Keyframe> {
  await output.flush();
  return { cols: terminal.cols, rows: terminal.rows, screen: serializer.serialize({ scrollback: keyframeScrollback }) };
}

async function applyChunk(screen: Screen, request: Extract<KeyframerRequest, { type: "chunk" }>): Promise<Keyframe | null> {
  screen.lastUsed = Date.now();
  screen.emulator ??= await wake(screen.sleeping);
  screen.sleeping = null;
  const { terminal, output } = screen.emulator;
  const { header, events } = parseChunk(gunzipSync(request.gzip), request.seq);
  if (header && (header.width !== terminal.cols || header.height !== terminal.rows)) {
    await output.flush();
    terminal.resize(header.width, header.height);
  }
  for (const [, code, data] of events) {
    if (code === "o") await output.write(data);
    const size = code === "r" ? parseResize(data) : null;
    if (!size) continue;
    await output.flush();
    terminal.resize(size.cols, size.rows);
  }
  return request.snapshot ? snapshotOf(screen.emulator) : null;
}

const screens = new Map<string, Screen>();
const reply = (message: KeyframerReply) => void process.send!(message);

process.on("message", (request: KeyframerRequest) => {
  if (request.type === "begin") {
    screens.get(request.sessionId)?.emulator?.terminal.dispose();
    screens.set(request.sessionId, { emulator: null, sleeping: request.from, lastUsed: Date.now(), queue: Promise.resolve() });
    return;
  }
  const screen = screens.get(request.sessionId);
  if (!screen) {
    if (request.type === "chunk") reply({ type: "chunk-failed", sessionId: request.sessionId, seq: request.seq, problem: "chunk for a recording that was not begun" });
    return;
  }
  if (request.type === "end") {
    screen.queue = screen.queue.then(() => screen.emulator?.terminal.dispose());
    screens.delete(request.sessionId);
    return;
  }
  screen.queue = screen.queue.then(() =>
    applyChunk(screen, request).then(
      (keyframe) => reply({ type: "chunk-done", sessionId: request.sessionId, seq: request.seq, keyframe }),
      (error: Error) => reply({ type: "chunk-failed", sessionId: request.sessionId, seq: request.seq, problem: error.message }),
    ),
  );
});

setInterval(() => {
  const quietSince = Date.now() - hibernateAfterMs;
  for (const screen of screens.values()) {
    if (!screen.emulator || screen.lastUsed > quietSince) continue;
    screen.queue = screen.queue.then(async () => {
      if (!screen.emulator || screen.lastUsed > quietSince) return;
      screen.sleeping = await snapshotOf(screen.emulator);
      screen.emulator.terminal.dispose();
      screen.emulator = null;
    });
  }
}, hibernateAfterMs / 4).unref();

// The gateway went away (crash, kill -9): nothing left to do.
process.on("disconnect", () => process.exit(0));
