"use client";
// The sessions dashboard: the list refreshes every two seconds without a reload, with the filters of the
// form; each live row carries a preview of the user's screen (a desktop's latest thumbnail, a terminal's last
// lines, a web visit's address) and the controls.
import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { Badge, Card, EmptyState, ProtocolOptions } from "@/app/_ui/primitives";
import type { LiveState } from "@/lib/protocol/live";
import { SessionControls } from "./_components/session-controls";
import { spanOfTime } from "@/lib/domain/format";

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
  /** When the desktop's latest thumbnail was taken; null before the first and for other protocols. */
  thumbnailAt: string | null;
  requestId: string | null;
  clientAddress: string | null;
  recorded: boolean;
  riskScore: number;
}

const refreshEveryMs = 2_000;
const inputStyle = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 text-sm";
const filterNames = ["status", "user", "target", "protocol", "node", "from", "to"] as const;
type Filters = Record<(typeof filterNames)[number], string>;

const statusStyles: Record<string, string> = { active: "text-emerald-700", locked: "text-red-700", paused: "text-amber-700", connecting: "text-slate-600", ended: "text-slate-500" };

export function LiveDashboard({ opensRecordings }: { opensRecordings: boolean }) {
  const [filters, setFilters] = useState<Filters>({ status: "live", user: "", target: "", protocol: "", node: "", from: "", to: "" });
  const [rows, setRows] = useState<SessionListRow[] | null>(null);
  /** The gateway has more sessions than one page holds for these filters. */
  const [more, setMore] = useState(false);
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
      setMore(response.headers.has("link"));
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
      {more && rows ? (
        <p role="status" className="mb-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Showing the newest {rows.length} sessions: more match. Narrow the filters, or page through them on the <Link href="/recordings" className="font-medium underline">Sessions</Link> list.
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
                <Card className={row.riskScore > 0 ? "border-red-300 py-3 ring-1 ring-red-200" : "py-3"}>
                  <div className="flex flex-wrap items-start gap-4">
                    <div className="min-w-56 text-sm">
                      <div className="font-medium">
                        {row.username} → {row.targetName} <Badge>{row.protocol.toUpperCase()}</Badge>
                      </div>
                      <div className="text-slate-600">
                        {row.startedAt.slice(0, 19).replace("T", " ")} · {spanOfTime((row.endedAt ? Date.parse(row.endedAt) : now) - Date.parse(row.startedAt))} · node {row.node}
                        {row.clientAddress ? ` · from ${row.clientAddress}` : ""}
                      </div>
                      {row.requestId ? (
                        <div className="text-xs text-slate-600" data-testid="session-request">
                          request {row.requestId.slice(0, 8)}
                        </div>
                      ) : null}
                      {row.riskScore > 0 ? (
                        <Link href={`/sessions/${row.id}/risk`} className="block text-xs font-semibold text-red-700" data-testid="session-risk">
                          risk {row.riskScore}
                        </Link>
                      ) : null}
                      <div className={`font-medium ${statusStyles[row.status] ?? ""}`} data-testid="session-status">
                        {live ? row.status : `ended (${row.endReason?.replace(/_/g, " ")})`}
                      </div>
                    </div>
                    {live && (row.protocol === "rdp" || row.protocol === "vnc") ? (
                      <DesktopThumbnail row={row} who={who} />
                    ) : live ? (
                      <pre data-testid="session-preview" className="h-24 min-w-0 flex-1 overflow-hidden rounded bg-slate-900 p-2 text-[11px] leading-tight text-slate-100">
                        {row.preview ?? ""}
                      </pre>
                    ) : (
                      <div className="flex-1" />
                    )}
                    <div className="flex flex-col items-end gap-2">
                      <Link href={`/sessions/${row.id}`} className="text-sm font-medium text-indigo-700" aria-label={`Details of ${who}`}>
                        Details
                      </Link>
                      {live ? (
                        <>
                          <Link href={`/live/${row.id}`} className="text-sm font-medium text-indigo-700" aria-label={`Watch ${who}`}>
                            Watch
                          </Link>
                          <SessionControls sessionId={row.id} state={row.status as LiveState} protocol={row.protocol} who={who} onDone={() => void refresh()} />
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

/** The desktop as it looked at its latest thumbnail (the address changes with each, so the browser fetches it anew). */
function DesktopThumbnail({ row, who }: { row: SessionListRow; who: string }) {
  return (
    <div className="flex h-24 min-w-0 flex-1 items-center justify-center overflow-hidden rounded bg-slate-900 text-xs text-slate-300">
      {row.thumbnailAt ? (
        <img
          data-testid="session-thumbnail"
          src={`/api/sessions/${row.id}/thumbnail?at=${encodeURIComponent(row.thumbnailAt)}`}
          alt={`The screen of ${who} at ${row.thumbnailAt.slice(11, 19)}`}
          className="h-full w-auto object-contain"
        />
      ) : (
        <span data-testid="session-thumbnail-pending">No picture of the screen yet</span>
      )}
    </div>
  );
}
