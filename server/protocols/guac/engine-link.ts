// The byte stream to whatever speaks the Guacamole protocol for one desktop connection: this gateway's own
// engine (a native program, one process per connection, so a crash or an exploit in one connection reaches
// only that process) or an Apache guacd at GUACD_HOST, which takes the same instruction stream over TCP.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { log } from "../../../lib/infra/log";

export const builtInEnginePath = fileURLToPath(new URL("../../../build/engine/guac-engine", import.meta.url));

/** What an admin needs to know to make RDP and VNC work on a gateway without the engine. */
export const engineMissingMessage =
  "RDP and VNC need the desktop engine, which is not built on this gateway. On Debian or Ubuntu, install its build dependencies (apt-get install build-essential pkg-config freerdp2-dev libvncserver-dev libpng-dev libjpeg-dev), then run `npm run build:engine` and restart; or set GUACD_HOST to use an Apache guacd";

export type EngineLocation = { kind: "built-in"; path: string } | { kind: "guacd"; host: string; port: number };

export interface EngineLink {
  readonly toEngine: Writable;
  readonly fromEngine: Readable;
  /** Whether the engine understands this gateway's extensions (keyframes on request). */
  readonly ownEngine: boolean;
  /** Called once, when the stream is gone, with why when that was not a normal end. */
  onEnd(listener: (problem: string | null) => void): void;
  close(): void;
}

export function engineAvailable(location: EngineLocation): boolean {
  return location.kind === "guacd" || existsSync(location.path);
}

export function openEngineLink(location: EngineLocation, label: string): EngineLink {
  const listeners: ((problem: string | null) => void)[] = [];
  let ended = false;
  const end = (problem: string | null) => {
    if (ended) return;
    ended = true;
    for (const listener of listeners) listener(problem);
  };

  if (location.kind === "guacd") {
    const socket = connect({ host: location.host, port: location.port });
    socket.on("error", (error) => end(`guacd at ${location.host}:${location.port}: ${error.message}`));
    socket.once("close", () => end(null));
    return { toEngine: socket, fromEngine: socket, ownEngine: false, onEnd: (listener) => listeners.push(listener), close: () => socket.end() };
  }

  const engine = spawn(location.path, [], { stdio: ["pipe", "pipe", "pipe"] });
  createInterface({ input: engine.stderr }).on("line", (line) => log.info(`desktop engine ${engine.pid} (${label}): ${line}`));
  engine.once("error", (error) => end(`the desktop engine could not start: ${error.message}`));
  engine.once("exit", (code, signal) => end(signal ? `the desktop engine stopped (${signal})` : code ? `the desktop engine stopped with status ${code}` : null));
  // A closed pipe shows up as the exit above; its write error must not take the gateway down.
  engine.stdin.on("error", () => {});
  let killTimer: NodeJS.Timeout | null = null;
  return {
    toEngine: engine.stdin,
    fromEngine: engine.stdout,
    ownEngine: true,
    onEnd: (listener) => listeners.push(listener),
    close() {
      if (ended || killTimer) return;
      engine.stdin.end();
      // The engine says goodbye to the server on its own; one that hangs is not waited for.
      killTimer = setTimeout(() => engine.kill("SIGKILL"), 3000);
      killTimer.unref();
      engine.once("exit", () => clearTimeout(killTimer!));
    },
  };
}
