// Controls (lock, pause, terminate…) travel to the node that runs the session as PostgreSQL notifications:
// every node listens, the addressed one applies the control and answers on the reply channel. The same path
// serves one node and many, PostgreSQL and the embedded PGlite.
import { randomUUID } from "node:crypto";
import type { DatabaseHandle } from "../data/client";
import { controlCommandSchema, controlReplySchema, type ControlCommand, type ControlReply } from "../protocol/live";
import { log } from "./log";

const commandChannel = "gatehouse_control";
const replyChannel = "gatehouse_control_reply";
/** A node that does not answer in this time is taken to be down (its heartbeat will say so soon). */
const replyTimeoutMs = 5_000;

export type ControlHandler = (command: ControlCommand) => Promise<Omit<ControlReply, "requestId">>;

export interface ControlBus {
  /** Delivers a control to the node named in it and resolves with that node's answer. */
  send(command: Omit<ControlCommand, "requestId">): Promise<ControlReply>;
  /** How this node applies the controls addressed to it. */
  serve(handler: ControlHandler): void;
}

function parsePayload<T>(schema: { safeParse(value: unknown): { success: boolean; data?: T } }, payload: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data! : null;
  } catch {
    return null;
  }
}

export async function createControlBus(database: DatabaseHandle, nodeName: string): Promise<ControlBus> {
  const waiting = new Map<string, (reply: ControlReply) => void>();
  let handler: ControlHandler | null = null;
  const notify = (channel: string, message: unknown) => database.notify(channel, JSON.stringify(message));

  await database.listen(replyChannel, (payload) => {
    const reply = parsePayload(controlReplySchema, payload);
    if (reply) waiting.get(reply.requestId)?.(reply);
  });
  await database.listen(commandChannel, (payload) => {
    const command = parsePayload(controlCommandSchema, payload);
    if (!command || command.node !== nodeName) return;
    const answer = handler ? handler(command) : Promise.resolve({ ok: false, message: `node ${nodeName} is not serving sessions` });
    answer
      .catch((error: unknown) => {
        log.error({ err: error }, `control ${command.action} of session ${command.sessionId} failed`);
        return { ok: false, message: "the node running the session could not apply the control; see its log" };
      })
      .then((reply) => notify(replyChannel, { requestId: command.requestId, ...reply }))
      .catch((error: unknown) => log.error({ err: error }, "control reply failed"));
  });

  return {
    async send(command) {
      const requestId = randomUUID();
      const reply = new Promise<ControlReply>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(requestId);
          resolve({ requestId, ok: false, message: `node ${command.node} did not answer within ${replyTimeoutMs / 1000} s; it may be down` });
        }, replyTimeoutMs);
        waiting.set(requestId, (answer) => {
          clearTimeout(timer);
          waiting.delete(requestId);
          resolve(answer);
        });
      });
      await notify(commandChannel, { ...command, requestId });
      return reply;
    },
    serve(next) {
      handler = next;
    },
  };
}
