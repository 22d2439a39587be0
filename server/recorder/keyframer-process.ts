// The keyframer's child process: one headless terminal per recording being keyframed, fed the recording's
// chunks in order, serializing the screen when asked. Terminal emulation costs more CPU per byte than relaying
// and recording together, so it runs here, at low priority, instead of on the gateway's event loop; it may
// fall behind under a flood of output and catches up afterwards. A crash here costs keyframes, never sessions.
import { gunzipSync } from "node:zlib";
// Both packages are CommonJS bundles whose named exports Node cannot see from ESM: import the whole module.
import serialize from "@xterm/addon-serialize";
import headless from "@xterm/headless";
import { castHeaderSchema, parseCastEvents, replay, type Keyframe } from "../../lib/protocol/recordings";

/** Rows kept above the screen, and serialized with it, so the player can scroll back after a seek. */
export const keyframeScrollback = 200;

export type KeyframerRequest =
  /** Start keyframing a recording, from its beginning or from a stored keyframe. */
  | { type: "begin"; sessionId: string; from: Keyframe | null }
  /** The next chunk (gzip as stored); `snapshot` asks for the screen after it. */
  | { type: "chunk"; sessionId: string; seq: number; gzip: Uint8Array; snapshot: boolean }
  | { type: "end"; sessionId: string };

export type KeyframerReply =
  | { type: "chunk-done"; sessionId: string; seq: number; keyframe: Keyframe | null }
  | { type: "chunk-failed"; sessionId: string; seq: number; problem: string };

interface Screen {
  terminal: InstanceType<typeof headless.Terminal>;
  serializer: InstanceType<typeof serialize.SerializeAddon>;
  /** Requests for this recording are handled strictly in order. */
  queue: Promise<void>;
}

function openScreen(from: Keyframe | null): Screen {
  const terminal = new headless.Terminal({ cols: from?.cols ?? 80, rows: from?.rows ?? 24, scrollback: keyframeScrollback, allowProposedApi: true });
  const serializer = new serialize.SerializeAddon();
  terminal.loadAddon(serializer);
  const queue = from ? new Promise<void>((resolve) => terminal.write(from.screen, resolve)) : Promise.resolve();
  return { terminal, serializer, queue };
}

async function applyChunk(screen: Screen, request: Extract<KeyframerRequest, { type: "chunk" }>): Promise<Keyframe | null> {
  const lines = gunzipSync(request.gzip).toString("utf8").split("\n");
  if (request.seq === 0) {
    const header = castHeaderSchema.safeParse(JSON.parse(lines.shift() ?? "{}"));
    if (header.success) screen.terminal.resize(header.data.width, header.data.height);
  }
  await replay(screen.terminal, parseCastEvents(lines));
  if (!request.snapshot) return null;
  return { cols: screen.terminal.cols, rows: screen.terminal.rows, screen: screen.serializer.serialize({ scrollback: keyframeScrollback }) };
}

const screens = new Map<string, Screen>();
const reply = (message: KeyframerReply) => void process.send!(message);

process.on("message", (request: KeyframerRequest) => {
  if (request.type === "begin") {
    screens.get(request.sessionId)?.terminal.dispose();
    screens.set(request.sessionId, openScreen(request.from));
    return;
  }
  const screen = screens.get(request.sessionId);
  if (!screen) {
    if (request.type === "chunk") reply({ type: "chunk-failed", sessionId: request.sessionId, seq: request.seq, problem: "chunk for a recording that was not begun" });
    return;
  }
  if (request.type === "end") {
    screen.queue = screen.queue.then(() => screen.terminal.dispose());
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

// The gateway went away (crash, kill -9): nothing left to do.
process.on("disconnect", () => process.exit(0));
