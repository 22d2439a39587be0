// Targets flooding output over real loopback sockets: with fair reads, no turn of the event loop reads much more
// than the budget, whatever the floods send; without them, one turn reads megabytes (the control).
import { once } from "node:events";
import { createServer, connect, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { bytesPerTurn, readFairly } from "../../server/protocols/fair-reads";

/** One read of libuv's: what a socket may deliver after the budget is passed, before it stops. */
const readSize = 64 * 1024;
const floodBytes = 24 * 1024 * 1024;
const floods = 4;

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((server) => server.close()));

/** A target that sends `floodBytes` to each connection as fast as the kernel takes them. */
async function floodingTarget() {
  const chunk = Buffer.alloc(1024 * 1024, "x");
  const server = createServer((socket) => {
    socket.on("error", () => {});
    let sent = 0;
    const pump = () => {
      while (sent < floodBytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      socket.end();
    };
    pump();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** A target that sends a keystroke's echo every millisecond. */
async function tricklingTarget() {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    const timer = setInterval(() => socket.write("x"), 1);
    socket.once("close", () => clearInterval(timer));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** Reads every flood to its end, and the most bytes any one turn of the event loop read from all of them. */
async function mostReadInOneTurn(sockets: Socket[]) {
  let thisTurn = 0;
  let most = 0;
  let ended = 0;
  let received = 0;
  const probe = () => {
    most = Math.max(most, thisTurn);
    thisTurn = 0;
    if (ended < sockets.length) setImmediate(probe);
  };
  setImmediate(probe);
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve, reject) => {
          socket.on("data", (data: Buffer) => {
            thisTurn += data.length;
            received += data.length;
          });
          socket.once("end", () => {
            ended++;
            resolve();
          });
          socket.once("error", reject);
        }),
    ),
  );
  probe();
  return { most, received };
}

async function openFloods(count: number, fair: boolean) {
  const port = await floodingTarget();
  const sockets = Array.from({ length: count }, () => connect({ host: "127.0.0.1", port }));
  if (fair) sockets.forEach(readFairly);
  await Promise.all(sockets.map((socket) => once(socket, "connect")));
  return sockets;
}

describe("fair reads", () => {
  it("no turn of the event loop reads much past the budget, however many targets flood, and nothing is lost", async () => {
    const { most, received } = await mostReadInOneTurn(await openFloods(floods, true));
    expect(received).toBe(floods * floodBytes);
    // The budget, plus one read per flood that had not stopped yet when it was passed (all of them in the first
    // turn), plus what a resumed socket had read before it stopped: bounded, whatever each flood sends.
    expect(most).toBeLessThanOrEqual(bytesPerTurn + (floods + 1) * readSize);
  });

  it("a target that sends little is never stopped, however long the floods run", async () => {
    const port = await tricklingTarget();
    const trickle = connect({ host: "127.0.0.1", port });
    readFairly(trickle);
    let pausedAtSomeTurn = false;
    let trickled = 0;
    trickle.on("data", (data: Buffer) => (trickled += data.length));
    const watch = setInterval(() => (pausedAtSomeTurn ||= trickle.isPaused()), 1);
    const { received } = await mostReadInOneTurn(await openFloods(floods, true));
    clearInterval(watch);
    trickle.destroy();
    expect(received).toBe(floods * floodBytes);
    expect(trickled).toBeGreaterThan(0);
    expect(pausedAtSomeTurn).toBe(false);
  });

  it("(control) without them, one turn reads far more than the budget", async () => {
    const { most, received } = await mostReadInOneTurn(await openFloods(floods, false));
    expect(received).toBe(floods * floodBytes);
    expect(most).toBeGreaterThan(2 * (bytesPerTurn + (floods + 1) * readSize));
  });
});
