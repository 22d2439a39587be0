"use client";
// The browser terminal: xterm.js on a WebSocket opened with a fresh connect ticket. Keystrokes go out as
// binary frames; the gateway's JSON frames drive the status line, the time-limit banner and the end notice.
import "@xterm/xterm/css/xterm.css";
import { FitAddon } from "@xterm/addon-fit";
import { Unicode11Addon } from "@xterm/addon-unicode11";
import { Terminal } from "@xterm/xterm";
import { useCallback, useEffect, useRef } from "react";
import { ExpiryBanner, PolicyBanner, RecordingIndicator, SessionStatusLine, WatchersBanner } from "@/app/_components/session-banners";
import { Button } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import { terminalSocketPath, type SessionClientMessage } from "@/lib/protocol/session-socket";
import type { TicketResponse } from "@/lib/protocol/tickets";
import { useSessionState } from "@/app/_components/session-state";
import { confirmedLinks } from "@/app/_components/terminal-links";

/** Input goes out in frames of at most this size, however much is pasted at once (the gateway takes up to 1 MiB). */
const inputFrameBytes = 64 * 1024;

export function TerminalView({ targetId, targetName, recordingNotice }: { targetId: string; targetName: string; recordingNotice: string | null }) {
  const container = useRef<HTMLDivElement>(null);
  const terminal = useRef<Terminal | null>(null);
  const fit = useRef<FitAddon | null>(null);
  const socket = useRef<WebSocket | null>(null);
  const { status, expiry, control, watchers, policyNotice, starting, failed, onServerMessage, onSocketClose } = useSessionState();

  const sendControl = (message: SessionClientMessage) => {
    if (socket.current?.readyState === WebSocket.OPEN) socket.current.send(JSON.stringify(message));
  };

  const connect = useCallback(async () => {
    const term = terminal.current!;
    starting();
    const ticket = await callApi<TicketResponse>("POST", "/api/tickets", { targetId, purpose: "terminal" });
    if (!ticket.ok) return failed(ticket.error);
    const url = new URL(terminalSocketPath(ticket.data.url, { cols: term.cols, rows: term.rows }), window.location.href.replace(/^http/, "ws"));
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    socket.current = ws;
    let ended = false;
    ws.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) return term.write(new Uint8Array(event.data));
      if (onServerMessage(String(event.data), () => term.focus())) ended = true;
    };
    ws.onclose = (event) => {
      if (!ended) onSocketClose(event, false);
    };
  }, [targetId, starting, failed, onServerMessage, onSocketClose]);

  useEffect(() => {
    const term = new Terminal({
      allowProposedApi: true,
      // A steady cursor: a blinking one is an animation that never stops, and where the browser draws without a
      // GPU (virtual desktops) every echo waited a frame for it (bench:typing).
      cursorBlink: false,
      fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 5000,
      theme: { background: "#0f172a" },
      linkHandler: confirmedLinks,
    });
    const fitAddon = new FitAddon();
    term.loadAddon(fitAddon);
    term.loadAddon(new Unicode11Addon());
    term.unicode.activeVersion = "11";
    term.open(container.current!);
    fitAddon.fit();
    terminal.current = term;
    fit.current = fitAddon;

    const encoder = new TextEncoder();
    term.onData((data) => {
      const ws = socket.current;
      if (ws?.readyState !== WebSocket.OPEN) return;
      const bytes = encoder.encode(data);
      for (let offset = 0; offset < bytes.length; offset += inputFrameBytes) ws.send(bytes.subarray(offset, offset + inputFrameBytes));
    });
    term.onResize(({ cols, rows }) => sendControl({ type: "resize", cols, rows }));
    // Ctrl+Shift+C / Ctrl+Shift+V copy and paste, as in desktop terminals; Ctrl+C stays an interrupt. The paste is
    // the browser's own (its paste event reaches xterm), which needs no clipboard permission; reading the clipboard
    // here as well pasted everything twice.
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown" || !event.ctrlKey || !event.shiftKey) return true;
      if (event.code === "KeyC") {
        void navigator.clipboard?.writeText(term.getSelection());
        return false;
      }
      return event.code !== "KeyV";
    });
    const onWindowResize = () => fitAddon.fit();
    window.addEventListener("resize", onWindowResize);
    void connect();
    return () => {
      window.removeEventListener("resize", onWindowResize);
      socket.current?.close();
      term.dispose();
    };
  }, [connect]);


  return (
    <div className="flex h-[calc(100vh-9rem)] flex-col gap-2">
      <div className="flex items-center gap-3 text-sm">
        <h1 className="font-semibold">{targetName}</h1>
        <SessionStatusLine status={status} testId="terminal-status" />
        {status.kind === "ended" ? (
          <Button variant="secondary" onClick={() => void connect()}>
            Reconnect
          </Button>
        ) : null}
        {recordingNotice ? <RecordingIndicator notice={recordingNotice} /> : null}
        <span className="ml-auto text-xs text-slate-500">Copy: Ctrl+Shift+C · Paste: Ctrl+Shift+V</span>
      </div>
      {control ? (
        <div role="alert" data-testid="control-banner" className={`rounded-md border px-3 py-2 text-sm ${control.state === "locked" ? "border-red-300 bg-red-50 text-red-900" : "border-amber-300 bg-amber-50 text-amber-900"}`}>
          {control.message}
        </div>
      ) : null}
      <WatchersBanner count={watchers} />
      <PolicyBanner message={policyNotice} />
      <ExpiryBanner expiry={expiry} onExtend={() => sendControl({ type: "extend" })} />
      <div ref={container} data-testid="terminal" className="min-h-0 flex-1 overflow-hidden rounded-md bg-slate-900 p-2" />
    </div>
  );
}
