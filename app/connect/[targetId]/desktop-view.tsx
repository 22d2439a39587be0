"use client";
// The browser desktop (RDP, VNC): Guacamole.Client drawing on a canvas scaled to the window, fed by the desktop
// WebSocket opened with a fresh connect ticket. Keyboard and mouse go out as Guacamole instructions; the text
// clipboard goes through a panel, since a page may not read the system clipboard unasked.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Client, Keyboard, Mouse } from "guacamole-common-js";
import { createFedTunnel, fitDisplay, loadGuacamole, type Guacamole } from "@/app/_components/guacamole";
import { ExpiryBanner, PolicyBanner, RecordingIndicator, SessionStatusLine, WatchersBanner } from "@/app/_components/session-banners";
import { Button } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import { desktopSocketPath } from "@/lib/protocol/desktop";
import type { SessionClientMessage } from "@/lib/protocol/session-socket";
import type { TicketResponse } from "@/lib/protocol/tickets";
import { useSessionState } from "@/app/_components/session-state";

/** A resize is sent once the window has stopped changing for this long: each one may reconnect an RDP server. */
const resizeSettleMs = 400;

export function DesktopView({ targetId, targetName, recordingNotice }: { targetId: string; targetName: string; recordingNotice: string | null }) {
  const viewport = useRef<HTMLDivElement>(null);
  const socket = useRef<WebSocket | null>(null);
  const client = useRef<Client | null>(null);
  const { status, expiry, control, watchers, policyNotice, starting, failed, onServerMessage, onSocketClose } = useSessionState();
  const [clipboardOpen, setClipboardOpen] = useState(false);
  const [clipboardText, setClipboardText] = useState("");
  const guacamole = useRef<Guacamole | null>(null);
  const closedByUser = useRef(false);

  const sendControl = (message: SessionClientMessage) => {
    if (socket.current?.readyState === WebSocket.OPEN) socket.current.send(JSON.stringify(message));
  };

  const connect = useCallback(async () => {
    const container = viewport.current!;
    const G = (guacamole.current ??= await loadGuacamole());
    client.current?.disconnect();
    container.replaceChildren();
    closedByUser.current = false;
    starting();
    const size = { width: Math.max(200, Math.floor(container.clientWidth)), height: Math.max(200, Math.floor(container.clientHeight)), dpi: 96 };
    const ticket = await callApi<TicketResponse>("POST", "/api/tickets", { targetId, purpose: "desktop" });
    if (!ticket.ok) return failed(ticket.error);
    const ws = new WebSocket(new URL(desktopSocketPath(ticket.data.url, size), window.location.href.replace(/^http/, "ws")));
    ws.binaryType = "arraybuffer";
    socket.current = ws;
    const encoder = new TextEncoder();
    const fed = createFedTunnel(G, (instruction) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(instruction));
    });
    const guac = new G.Client(fed.tunnel);
    client.current = guac;
    const display = guac.getDisplay();
    container.appendChild(display.getElement());
    display.onresize = () => fitDisplay(display, container);
    guac.onclipboard = (stream, mimetype) => {
      if (!/^text\//.test(mimetype)) return;
      const reader = new G.StringReader(stream);
      let text = "";
      reader.ontext = (part) => (text += part);
      reader.onend = () => setClipboardText(text);
    };
    const mouse = new G.Mouse(display.getElement());
    mouse.onEach(["mousedown", "mouseup", "mousemove"], (event) => {
      container.focus();
      guac.sendMouseState((event as unknown as { state: Mouse.State }).state, true);
    });
    guac.connect("");

    let ended = false;
    ws.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) return fed.receive(new Uint8Array(event.data));
      if (onServerMessage(String(event.data), () => container.focus())) ended = true;
    };
    ws.onclose = (event) => {
      guac.disconnect();
      if (!ended) onSocketClose(event, closedByUser.current);
    };
  }, [targetId, starting, failed, onServerMessage, onSocketClose]);

  useEffect(() => {
    const container = viewport.current!;
    let keyboard: Keyboard | null = null;
    let settle: ReturnType<typeof setTimeout> | null = null;
    const observer = new ResizeObserver(() => {
      const guac = client.current;
      if (!guac) return;
      fitDisplay(guac.getDisplay(), container);
      if (settle) clearTimeout(settle);
      settle = setTimeout(() => client.current?.sendSize(Math.max(200, Math.floor(container.clientWidth)), Math.max(200, Math.floor(container.clientHeight))), resizeSettleMs);
    });
    void (async () => {
      const G = (guacamole.current ??= await loadGuacamole());
      // Keys are taken only while the desktop has focus, so the clipboard panel can be typed into.
      keyboard = new G.Keyboard(container);
      keyboard.onkeydown = (keysym) => {
        client.current?.sendKeyEvent(1, keysym);
        return false;
      };
      keyboard.onkeyup = (keysym) => client.current?.sendKeyEvent(0, keysym);
      observer.observe(container);
      await connect();
    })();
    return () => {
      observer.disconnect();
      if (settle) clearTimeout(settle);
      if (keyboard) keyboard.onkeydown = keyboard.onkeyup = null;
      socket.current?.close();
      client.current?.disconnect();
    };
  }, [connect]);

  const sendClipboard = () => {
    const G = guacamole.current;
    const guac = client.current;
    if (!G || !guac) return;
    const writer = new G.StringWriter(guac.createClipboardStream("text/plain"));
    writer.sendText(clipboardText);
    writer.sendEnd();
  };

  const disconnect = () => {
    closedByUser.current = true;
    socket.current?.close();
  };

  return (
    <div className="flex h-[calc(100vh-9rem)] flex-col gap-2">
      <div className="flex items-center gap-3 text-sm">
        <h1 className="font-semibold">{targetName}</h1>
        <SessionStatusLine status={status} testId="desktop-status" />
        {status.kind === "ended" ? (
          <Button variant="secondary" onClick={() => void connect()}>
            Reconnect
          </Button>
        ) : (
          <Button variant="secondary" onClick={disconnect}>
            Disconnect
          </Button>
        )}
        {recordingNotice ? <RecordingIndicator notice={recordingNotice} /> : null}
        <Button variant="secondary" className="ml-auto" aria-expanded={clipboardOpen} onClick={() => setClipboardOpen((open) => !open)}>
          Clipboard
        </Button>
      </div>
      <WatchersBanner count={watchers} />
      <PolicyBanner message={policyNotice} />
      <ExpiryBanner expiry={expiry} onExtend={() => sendControl({ type: "extend" })} />
      <div className="flex min-h-0 flex-1 gap-2">
        <div className="relative min-h-0 min-w-0 flex-1">
          <div ref={viewport} tabIndex={0} data-testid="desktop" className="h-full w-full overflow-hidden rounded-md bg-slate-900 outline-none focus:ring-2 focus:ring-indigo-400" />
          {control ? (
            <div role="alert" data-testid="control-banner" className="absolute inset-0 flex items-center justify-center rounded-md bg-slate-900/70 p-6">
              <p className={`max-w-md rounded-md border px-4 py-3 text-center text-sm ${control.state === "locked" ? "border-red-300 bg-red-50 text-red-900" : "border-amber-300 bg-amber-50 text-amber-900"}`}>{control.message}</p>
            </div>
          ) : null}
        </div>
        {clipboardOpen ? (
          <section aria-label="Clipboard" className="flex w-72 flex-col gap-2 rounded-md border border-slate-200 bg-white p-3 text-sm">
            <h2 className="font-semibold">Clipboard</h2>
            <p className="text-xs text-slate-600">Text copied on the desktop appears here. Text put here and sent becomes the desktop&apos;s clipboard.</p>
            <textarea aria-label="Clipboard text" className="min-h-40 flex-1 rounded-md border border-slate-300 p-2 font-mono text-xs" value={clipboardText} onChange={(event) => setClipboardText(event.target.value)} />
            <Button onClick={sendClipboard} disabled={status.kind !== "connected"}>
              Send to the desktop
            </Button>
          </section>
        ) : null}
      </div>
    </div>
  );
}
