// What the terminal and the desktop page know of their session, from the gateway's JSON frames on the session
// socket (the binary frames are the protocol's own): connecting, connected or ended and why; a lock or pause;
// who watches; when it expires; what the command policy last said.
import { useCallback, useState } from "react";
import type { Expiry } from "./session-banners";
import { gateCloseCodes } from "@/lib/protocol/gate";
import { sessionServerMessageSchema } from "@/lib/protocol/session-socket";

export type SessionStatus = { kind: "connecting" } | { kind: "connected" } | { kind: "ended"; message: string };
export type SessionControl = { state: "locked" | "paused"; message: string } | null;

/** How the browser names why a session ended. */
const endedLabels: Record<string, string> = {
  user_closed: "Session closed",
  target_closed: "The target ended the session",
  terminated: "Session terminated",
  expired: "Session expired",
  error: "Could not connect",
  interrupted: "Session interrupted",
};

export function useSessionState() {
  const [status, setStatus] = useState<SessionStatus>({ kind: "connecting" });
  const [expiry, setExpiry] = useState<Expiry>(null);
  const [control, setControl] = useState<SessionControl>(null);
  const [watchers, setWatchers] = useState(0);
  const [policyNotice, setPolicyNotice] = useState<string | null>(null);

  /** A new connection starts: nothing is known of it yet. */
  const starting = useCallback(() => {
    setStatus({ kind: "connecting" });
    setExpiry(null);
    setControl(null);
    setWatchers(0);
    setPolicyNotice(null);
  }, []);

  /** The connection could not start (its ticket was refused, say). */
  const failed = useCallback((message: string) => setStatus({ kind: "ended", message }), []);

  /** A JSON frame from the session socket; returns true when it says the session ended. */
  const onServerMessage = useCallback((text: string, onConnected: () => void): boolean => {
    const message = sessionServerMessageSchema.safeParse(JSON.parse(text));
    if (!message.success) return false;
    const data = message.data;
    if (data.type === "connected") {
      setStatus({ kind: "connected" });
      onConnected();
    } else if (data.type === "expiry") {
      setExpiry({ expiresAt: new Date(data.expiresAt), canExtend: data.canExtend, extensionMinutes: Math.round(data.extensionSeconds / 60) });
    } else if (data.type === "state") {
      setControl(data.state === "active" ? null : { state: data.state, message: data.message });
    } else if (data.type === "watchers") {
      setWatchers(data.count);
    } else if (data.type === "policy") {
      setPolicyNotice(data.message);
    } else if (data.type === "ended") {
      setExpiry(null);
      setControl(null);
      setWatchers(0);
      setStatus({ kind: "ended", message: `${endedLabels[data.reason] ?? "Session ended"}: ${data.message}` });
      return true;
    }
    return false;
  }, []);

  /** The socket closed without the session saying it ended: why, as far as the browser can tell. */
  const onSocketClose = useCallback((event: CloseEvent, closedByUser: boolean) => {
    if (closedByUser) return setStatus({ kind: "ended", message: "Session closed: you disconnected" });
    const refused = event.code >= 4000 && event.code <= gateCloseCodes.ticketInvalid;
    setStatus({ kind: "ended", message: refused ? `Refused: ${event.reason}` : "The connection to the gateway was lost" });
  }, []);

  return { status, expiry, control, watchers, policyNotice, starting, failed, onServerMessage, onSocketClose };
}
