// Targets share the event loop fairly. libuv reads a ready socket until it would block, up to 32 reads of 64 KiB
// in one go, and the gateway relays, inspects and records each read before it looks at anything else; so one
// target flooding output held the loop for hundreds of milliseconds per turn, and every key typed in every other
// session waited behind it (bench:load: echo p50 1.3 s next to two floods). Now, once the reads of one turn of
// the loop pass a budget, a socket that read a bulk share of it stops reading; stopped sockets start again one
// per turn, in the order they stopped, so that each turn holds about the budget and floods take turns. A socket
// that reads little in a turn (a person typing, an echo) is never stopped: it must not queue behind floods.
import type { Socket } from "node:net";

/** About 10 ms of relaying, inspecting and recording on a slow core. */
export const bytesPerTurn = 128 * 1024;
/** What a socket must read in one turn to be stopped: far more than any keystroke's answer. */
export const bulkPerTurn = 16 * 1024;

let readThisTurn = 0;
let turn = 0;
let turnEndScheduled = false;
const stopped: Socket[] = [];

function endTurn() {
  turnEndScheduled = false;
  readThisTurn = 0;
  turn++;
  while (stopped.length > 0) {
    const next = stopped.shift()!;
    if (next.destroyed) continue;
    next.resume();
    break;
  }
  // Sockets still stopped need a next turn even if nothing else reads.
  if (stopped.length > 0) scheduleTurnEnd();
}

function scheduleTurnEnd() {
  if (turnEndScheduled) return;
  turnEndScheduled = true;
  setImmediate(endTurn);
}

/** Makes a target's socket take its share of each turn of the event loop, no more. */
export function readFairly(socket: Socket) {
  let ownTurn = -1;
  let ownRead = 0;
  socket.on("data", (data: Buffer) => {
    if (ownTurn !== turn) {
      ownTurn = turn;
      ownRead = 0;
    }
    ownRead += data.length;
    readThisTurn += data.length;
    scheduleTurnEnd();
    if (readThisTurn > bytesPerTurn && ownRead >= bulkPerTurn && !socket.isPaused()) {
      socket.pause();
      stopped.push(socket);
    }
  });
}
