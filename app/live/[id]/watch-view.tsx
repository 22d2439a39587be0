"use client";
// Security's live view of a session: a read-only terminal, web page or desktop drawn from the gateway's
// catch-up and live frames (./watch-screens.ts), the keystroke and command log beside a terminal, and the controls.
import { useEffect, useMemo, useRef, useState } from "react";
import { callApi } from "@/lib/api/client";
import type { RiskEventView } from "@/lib/protocol/command-rules";
import { gateCloseCodes } from "@/lib/protocol/gate";
import { visibleKeys, watchServerMessageSchema, type KeystrokeLogEntry, type LiveState } from "@/lib/protocol/live";
import type { TicketResponse } from "@/lib/protocol/tickets";
import { SessionControls } from "../_components/session-controls";
import { HeldCommands } from "./held-commands";
import { desktopScreen, pageScreen, terminalScreen, type WatchScreen } from "./watch-screens";

type LogLine = { at: number; kind: "typed" | "command"; text: string; open: boolean };

/** Keystrokes become lines of typing (closed by Enter); completed commands are lines of their own. */
function appendToLog(lines: LogLine[], entries: KeystrokeLogEntry[]): LogLine[] {
  const next = [...lines];
  for (const entry of entries) {
    if (entry.kind === "command") {
      next.push({ at: entry.at, kind: "command", text: entry.text, open: false });
      continue;
    }
    const last = next.findLast((line) => line.kind === "typed");
    const ends = /[\r\n]/.test(entry.text);
    if (last?.open) next[next.lastIndexOf(last)] = { ...last, text: last.text + visibleKeys(entry.text), open: !ends };
    else next.push({ at: entry.at, kind: "typed", text: visibleKeys(entry.text), open: !ends });
  }
  return next.slice(-1000);
}

export function WatchView({ sessionId, who, protocol }: { sessionId: string; who: string; protocol: string }) {
  const isPage = protocol === "web";
  const isDesktop = protocol === "rdp" || protocol === "vnc";
  const isTerminal = !isPage && !isDesktop;
  const container = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState("Connecting…");
  const [state, setState] = useState<LiveState>("connecting");
  const [control, setControl] = useState<string | null>(null);
  const [log, setLog] = useState<LogLine[]>([]);
  const [newestFirst, setNewestFirst] = useState(false);
  const [ended, setEnded] = useState(false);
  const [risks, setRisks] = useState<RiskEventView[]>([]);

  useEffect(() => {
    let screen: WatchScreen | null = null;
    let socket: WebSocket | null = null;
    let closedByPage = false;

    void (async () => {
      screen = isPage ? await pageScreen(container.current!) : isDesktop ? await desktopScreen(container.current!) : terminalScreen(container.current!);
      if (closedByPage) return screen.dispose();
      const ticket = await callApi<TicketResponse>("POST", "/api/tickets", { purpose: "watch", sessionId });
      if (!ticket.ok) return setStatus(ticket.error);
      socket = new WebSocket(new URL(ticket.data.url, window.location.href.replace(/^http/, "ws")));
      socket.binaryType = "arraybuffer";
      let unrecordedNote = "";
      socket.onmessage = (event) => {
        if (event.data instanceof ArrayBuffer) return screen?.data(new Uint8Array(event.data));
        const message = watchServerMessageSchema.safeParse(JSON.parse(String(event.data)));
        if (!message.success) return;
        const data = message.data;
        if (data.type === "joined") {
          unrecordedNote = data.session.recorded ? "" : " (this target is not recorded)";
          setStatus(isPage ? "Catching up with the page…" : isDesktop ? "Catching up with the desktop…" : "Catching up with the screen…");
        } else if (data.type === "live") setStatus(`Watching live${unrecordedNote}`);
        else if (data.type === "screen" || data.type === "page" || data.type === "desktop") screen?.restart(data);
        else if (data.type === "resize") screen?.resize(data.cols, data.rows);
        else if (data.type === "log") setLog((lines) => appendToLog(lines, data.entries));
        else if (data.type === "risk") setRisks((events) => [...events, data.event].slice(-200));
        else if (data.type === "state") {
          setState(data.state);
          setControl(data.state === "active" || data.state === "connecting" ? null : `${data.state === "locked" ? "Locked" : "Paused"} by ${data.by ?? "security"}${data.reason ? `: ${data.reason}` : ""}`);
        } else if (data.type === "ended") {
          setEnded(true);
          setStatus(`The session ended: ${data.message}`);
        } else setStatus(data.message);
      };
      socket.onclose = (event) => {
        if (closedByPage) return;
        setEnded(true);
        const refused = event.code >= 4000 && event.code <= gateCloseCodes.ticketInvalid;
        if (refused) setStatus(`Refused: ${event.reason}`);
        else setStatus((current) => (current.startsWith("The session ended") || current.startsWith("Refused") ? current : "The view was closed"));
      };
    })();
    return () => {
      closedByPage = true;
      socket?.close();
      screen?.dispose();
    };
  }, [sessionId, isPage, isDesktop]);

  const shownLog = useMemo(() => (newestFirst ? [...log].reverse() : log), [log, newestFirst]);

  return (
    <div className={isTerminal ? "grid grid-cols-[minmax(0,1fr)] gap-4 lg:grid-cols-[minmax(0,1fr)_20rem]" : "grid gap-4"}>
      <div className="flex min-w-0 flex-col gap-2">
        <div className="flex flex-wrap items-center gap-3 text-sm">
          <span role="status" data-testid="watch-status" className={ended ? "text-slate-600" : "text-emerald-700"}>
            {status}
          </span>
          {!ended ? (
            <div className="ml-auto">
              <SessionControls sessionId={sessionId} state={state} protocol={protocol} who={who} />
            </div>
          ) : null}
        </div>
        {ended ? null : <HeldCommands sessionId={sessionId} />}
        {risks.length > 0 ? (
          <section aria-label="Risk events" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm">
            <h2 className="font-semibold text-red-900">
              Risk events ({risks.length}) · <a className="underline" href={`/sessions/${sessionId}/risk`}>risk analysis</a>
            </h2>
            <ol data-testid="risk-events" className="mt-1 max-h-32 space-y-0.5 overflow-y-auto font-mono text-xs">
              {risks.map((event) => (
                <li key={event.id}>
                  <span className="mr-2 text-slate-500">{new Date(event.at).toLocaleTimeString()}</span>
                  {event.severity} · {event.ruleName} · {event.outcome}: {event.subject}
                </li>
              ))}
            </ol>
          </section>
        ) : null}
        {control && !ended ? (
          <div data-testid="watch-control-state" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-1.5 text-sm text-amber-900">
            {control}
          </div>
        ) : null}
        <div
          ref={container}
          data-testid={isPage ? "watch-page" : isDesktop ? "watch-desktop" : "watch-terminal"}
          className={isPage ? "h-[70vh] overflow-hidden rounded-md border border-slate-200 bg-white" : isDesktop ? "h-[70vh] overflow-hidden rounded-md bg-slate-900" : "h-[60vh] overflow-hidden rounded-md bg-slate-900 p-2"}
        />
      </div>
      {!isTerminal ? null : (
        <section aria-label="Keystroke and command log" className="flex max-h-[70vh] flex-col rounded-md border border-slate-200 bg-white">
          <div className="flex items-center justify-between border-b border-slate-200 px-3 py-2 text-sm">
            <h2 className="font-semibold">Keystrokes and commands</h2>
            <label className="flex items-center gap-1 text-xs text-slate-600">
              <input type="checkbox" checked={newestFirst} onChange={(event) => setNewestFirst(event.target.checked)} />
              Newest first
            </label>
          </div>
          <ol data-testid="keystroke-log" className="flex-1 space-y-0.5 overflow-y-auto px-3 py-2 font-mono text-xs">
            {shownLog.map((line, index) => (
              <li key={`${line.at}-${index}`} className={line.kind === "command" ? "font-semibold text-indigo-800" : "text-slate-700"}>
                <span className="mr-2 text-slate-400">{new Date(line.at).toLocaleTimeString()}</span>
                {line.kind === "command" ? `$ ${line.text}` : line.text}
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
}
