"use client";
// The sessions dashboard: the list refreshes every two seconds without a reload, with the filters of the
// form; each live row carries a preview of the user's screen and the controls.
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { Badge, Card, EmptyState, ProtocolOptions } from "@/app/_ui/primitives";
import type { LiveState } from "@/lib/protocol/live";
import { SessionControls } from "./_components/session-controls";

interface SessionListRow {
  id: string;
  username: string;
  targetName: string;
  protocol: string;
  node: string;
  status: LiveState | "ended";
  startedAt: string;
  endedAt: string | null;
  endReason: string | null;
  preview: string | null;
  requestId: string | null;
  clientAddress: string | null;
  recorded: boolean;
}

const refreshEveryMs = 2_000;
const inputStyle = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 text-sm";
const filterNames = ["status", "user", "target", "protocol", "node", "from", "to"] as const;
type Filters = Record<(typeof filterNames)[number], string>;

function duration(startedAt: string, endedAt: string | null, now: number) {
  const seconds = Math.max(0, Math.round(((endedAt ? Date.parse(endedAt) : now) - Date.parse(startedAt)) / 1000));
  return seconds < 60 ? `${seconds} s` : seconds < 3600 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

const statusStyles: Record<string, string> = { active: "text-emerald-700", locked: "text-red-700", paused: "text-amber-700", connecting: "text-slate-600", ended: "text-slate-500" };

export function LiveDashboard({ opensRecordings }: { opensRecordings: boolean }) {
  const [filters, setFilters] = useState<Filters>({ status: "live", user: "", target: "", protocol: "", node: "", from: "", to: "" });
  const [rows, setRows] = useState<SessionListRow[] | null>(null);
  const [problem, setProblem] = useState<string>();
  const [now, setNow] = useState(() => Date.now());

  const refresh = useCallback(async () => {
    const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ""));
    try {
      const response = await fetch(`/api/sessions?${query}`);
      const body = (await response.json()) as SessionListRow[] | { error: string; fields?: Record<string, string> };
      if (!response.ok || !Array.isArray(body)) {
        const error = body as { error: string; fields?: Record<string, string> };
        return setProblem(Object.values(error.fields ?? {})[0] ?? error.error);
      }
      setProblem(undefined);
      setRows(body);
      setNow(Date.now());
    } catch {
      setProblem("The gateway did not answer; retrying");
    }
  }, [filters]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), refreshEveryMs);
    return () => clearInterval(timer);
  }, [refresh]);

  const field = (name: keyof Filters) => ({ name, value: filters[name], onChange: (event: { target: { value: string } }) => setFilters((current) => ({ ...current, [name]: event.target.value })) });

  return (
    <>
      <form className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-7" aria-label="Filter sessions" onSubmit={(event) => event.preventDefault()}>
        <label className="text-sm">
          Status
          <select {...field("status")} className={inputStyle}>
            <option value="live">Live</option>
            <option value="ended">Ended</option>
            <option value="interrupted">Interrupted</option>
            <option value="">Any</option>
          </select>
        </label>
        <label className="text-sm">
          Protocol
          <select {...field("protocol")} className={inputStyle}>
            <option value="">Any</option>
            <ProtocolOptions />
          </select>
        </label>
        <label className="text-sm">
          User
          <input {...field("user")} className={inputStyle} />
        </label>
        <label className="text-sm">
          Target
          <input {...field("target")} className={inputStyle} />
        </label>
        <label className="text-sm">
          Node
          <input {...field("node")} className={inputStyle} />
        </label>
        <label className="text-sm">
          From
          <input type="date" {...field("from")} className={inputStyle} />
        </label>
        <label className="text-sm">
          To
          <input type="date" {...field("to")} className={inputStyle} />
        </label>
      </form>
      {problem ? (
        <p role="alert" className="mb-4 text-sm text-red-700">
          {problem}
        </p>
      ) : null}
      {rows === null ? (
        <p className="text-sm text-slate-600">Loading…</p>
      ) : rows.length === 0 ? (
        <EmptyState title="No sessions match">Sessions appear here the moment someone connects.</EmptyState>
      ) : (
        <ul className="space-y-3" aria-label="Sessions">
          {rows.map((row) => {
            const who = `${row.username} on ${row.targetName}`;
            const live = row.status !== "ended";
            return (
              <li key={row.id} data-session-id={row.id} aria-label={who}>
                <Card className="py-3">
                  <div className="flex flex-wrap items-start gap-4">
                    <div className="min-w-56 text-sm">
                      <div className="font-medium">
                        {row.username} → {row.targetName} <Badge>{row.protocol.toUpperCase()}</Badge>
                      </div>
                      <div className="text-slate-600">
                        {row.startedAt.slice(0, 19).replace("T", " ")} · {duration(row.startedAt, row.endedAt, now)} · node {row.node}
                        {row.clientAddress ? ` · from ${row.clientAddress}` : ""}
                      </div>
                      {row.requestId ? (
                        <div className="text-xs text-slate-600" data-testid="session-request">
                          request {row.requestId.slice(0, 8)}
                        </div>
                      ) : null}
                      <div className={`font-medium ${statusStyles[row.status] ?? ""}`} data-testid="session-status">
                        {live ? row.status : `ended (${row.endReason?.replace(/_/g, " ")})`}
                      </div>
                    </div>
                    {live ? (
                      <pre data-testid="session-preview" className="h-24 min-w-0 flex-1 overflow-hidden rounded bg-slate-900 p-2 text-[11px] leading-tight text-slate-100">
                        {row.preview ?? ""}
                      </pre>
                    ) : (
                      <div className="flex-1" />
                    )}
                    <div className="flex flex-col items-end gap-2">
                      {live ? (
                        <>
                          <Link href={`/live/${row.id}`} className="text-sm font-medium text-indigo-700" aria-label={`Watch ${who}`}>
                            Watch
                          </Link>
                          <SessionControls sessionId={row.id} state={row.status as LiveState} who={who} onDone={() => void refresh()} />
                        </>
                      ) : opensRecordings && row.recorded ? (
                        <Link href={`/recordings/${row.id}`} className="text-sm font-medium text-indigo-700" aria-label={`Play the recording of ${who}`}>
                          Play recording
                        </Link>
                      ) : null}
                    </div>
                  </div>
                </Card>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
