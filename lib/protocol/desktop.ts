// The desktop WebSocket (/ws/desktop) for RDP and VNC. Guacamole instructions travel as binary frames, whole
// instructions per frame, both ways (./guacamole.ts); the JSON text frames are the terminal socket's
// (lib/protocol/session-socket.ts: connecting, connected, state, watchers, expiry, ended, error; `extend` back).
import { z } from "zod";

export const desktopSizeSchema = z.object({
  width: z.number().int().min(200).max(8192),
  height: z.number().int().min(200).max(8192),
  dpi: z.number().int().min(48).max(480),
});
export type DesktopSize = z.infer<typeof desktopSizeSchema>;

export const defaultDesktopSize: DesktopSize = { width: 1280, height: 800, dpi: 96 };

/** Query parameters of /ws/desktop besides the ticket: the browser's view size when it opens. */
export function desktopSocketPath(ticketUrl: string, size: DesktopSize) {
  return `${ticketUrl}&width=${size.width}&height=${size.height}&dpi=${size.dpi}`;
}

/** What the browser may send the desktop; the gateway drops anything else (a handshake, a file upload). */
export const desktopInputOpcodes = new Set(["key", "mouse", "size", "sync", "clipboard", "blob", "end", "ack"]);
