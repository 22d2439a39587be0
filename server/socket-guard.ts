// Every socket the gateway serves or opens is held to one rule: its errors and the exceptions of its handlers
// stay with it. A protocol violation (an unmasked, oversized or invalid UTF-8 frame) closes that one socket with
// the code the violation calls for (ws picks 1002, 1009 or 1007) and leaves a log line; a handler that throws
// closes its socket with 1011. Nothing reaches the process's last-resort handlers (./crash-policy.ts).
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { log } from "../lib/infra/log";

type Guarded = WebSocket | Duplex;

function describe(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code ? `${code}: ${message}` : String(message ?? error);
}

/** Logs a socket's errors as one line; the socket closes itself (ws sends the close code first). */
export function guardSocket<Socket extends Guarded>(socket: Socket, label: string): Socket {
  socket.on("error", (error: unknown) => log.warn(`${label}: socket closed on ${describe(error)}`));
  return socket;
}

/**
 * A WebSocket's message handler whose exceptions, thrown or rejected, end only that socket (1011) with a log
 * line, never the process or a framework's catch-all.
 */
export function onMessage(socket: WebSocket, label: string, handler: (data: Buffer, isBinary: boolean) => void | Promise<void>) {
  const fail = (error: unknown) => {
    log.error({ err: error }, `${label}: a message could not be handled; closing the socket`);
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(1011, "internal error");
  };
  socket.on("message", (data: Buffer, isBinary: boolean) => {
    try {
      const result = handler(data, isBinary);
      if (result) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  });
}

/** A promise whose failure is logged rather than left unhandled: for work started from an event handler. */
export function logFailure(work: Promise<unknown>, what: string) {
  work.catch((error: unknown) => log.error({ err: error }, `${what} failed`));
}
