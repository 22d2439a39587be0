// guacamole-common-js in the browser: loaded on demand (it touches the DOM from its first line), and a tunnel
// that is fed instructions by whoever holds the socket — the desktop page, a watcher's view, the player.
import type * as GuacamoleModule from "guacamole-common-js";
import { encodeInstruction, GuacamoleParser, type GuacInstruction } from "@/lib/protocol/guacamole";

export type Guacamole = typeof GuacamoleModule;

export async function loadGuacamole(): Promise<Guacamole> {
  // The package's ES build exports the library as its default; its type declarations describe the namespace.
  const loaded = (await import("guacamole-common-js")) as unknown as { default: Guacamole };
  return loaded.default;
}

export interface FedTunnel {
  tunnel: GuacamoleModule.Tunnel;
  /** Bytes of whole or partial instructions, as they arrive. */
  receive(bytes: Uint8Array): void;
  /** Instructions already parsed. */
  deliver(instructions: GuacInstruction[]): void;
}

/** A tunnel for Guacamole.Client whose input comes from `receive` and whose output goes to `send` (if anywhere). */
export function createFedTunnel(guacamole: Guacamole, send: ((instruction: string) => void) | null): FedTunnel {
  const tunnel = new (guacamole.Tunnel as unknown as new () => GuacamoleModule.Tunnel & { setState(state: number): void })();
  const parser = new GuacamoleParser();
  tunnel.connect = () => tunnel.setState(guacamole.Tunnel.State.OPEN);
  tunnel.disconnect = () => tunnel.setState(guacamole.Tunnel.State.CLOSED);
  tunnel.sendMessage = (...elements: unknown[]) => {
    if (!send || elements.length === 0) return;
    send(encodeInstruction(String(elements[0]), elements.slice(1).map(String)));
  };
  const deliver = (instructions: GuacInstruction[]) => {
    for (const { opcode, args } of instructions) tunnel.oninstruction?.(opcode, args);
  };
  return { tunnel, receive: (bytes) => deliver(parser.push(bytes)), deliver };
}

/** Scales a Guacamole display to fit its container, never above its own size. */
export function fitDisplay(display: GuacamoleModule.Display, container: HTMLElement) {
  const width = display.getWidth();
  const height = display.getHeight();
  if (width === 0 || height === 0) return;
  display.scale(Math.min(1, container.clientWidth / width, container.clientHeight / height));
}
