import Link from "next/link";
import { spanOfTime } from "@/lib/domain/format";
import { Badge, Card, DataTable, EmptyState, PageTitle, ProtocolOptions } from "@/app/_ui/primitives";
import { hasRole, requirePageUser } from "@/lib/auth/current-user";
import { exportKindOf, recordingExports } from "@/lib/protocol/recordings";
import { sessionFilterSchema } from "@/lib/protocol/sessions";
import { runtime } from "@/lib/infra/runtime";
import { listSessions } from "@/lib/data/sessions";
import { searchReadableTranscripts } from "@/lib/data/governance/recording-access";

const inputStyle = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 text-sm";

export default async function RecordingsPage({ searchParams }: { searchParams: Promise<Record<string, string>> }) {
  const user = await requirePageUser();
  const raw = await searchParams;
  const parsed = sessionFilterSchema.safeParse(raw);
  const filter = parsed.success ? parsed.data : {};
  const seesEveryone = hasRole(user, ["reviewer", "security", "admin"]);
  const opensRecordings = hasRole(user, ["reviewer", "admin"]);
  const { rows, next } = await listSessions(runtime().db, filter, seesEveryone ? {} : { onlyUserId: user.id });
  // The filters as they came, for the next page's and the first page's links.
  const carried = Object.entries(raw).filter(([name, value]) => name !== "after" && name !== "q" && typeof value === "string" && value !== "");
  const pageLink = (after?: string) => `/recordings?${new URLSearchParams([...carried, ...(after ? [["after", after]] : [])])}`;
  const query = opensRecordings ? (raw.q ?? "").trim() : "";
  const hits = query.length >= 2 ? await searchReadableTranscripts(runtime().db, user, query.slice(0, 200)) : null;
  return (
    <>
      {opensRecordings ? (
        <form className="mb-4 flex items-end gap-3" role="search" aria-label="Search recordings">
          <label className="flex-1 text-sm">
            Search what was typed and shown
            <input name="q" type="search" defaultValue={query} placeholder="a command, a file name, an error message…" className={inputStyle} />
          </label>
          <button type="submit" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
            Search
          </button>
        </form>
      ) : null}
      {hits ? (
        <section aria-label="Search results" className="mb-8">
          <h2 className="mb-2 text-sm font-semibold text-slate-700">
            {hits.length === 0 ? `Nothing typed or shown matches “${query}”.` : `${hits.length} match${hits.length === 1 ? "" : "es"} for “${query}”`}
          </h2>
          <ul className="space-y-2">
            {hits.map((hit, index) => {
              const second = Math.floor(hit.atMs / 1000);
              return (
                <li key={`${hit.sessionId}-${hit.atMs}-${index}`}>
                  <Card className="py-3">
                    {/* The player opens at the end of the hit's second, so the line itself is on screen. */}
                    <Link href={`/recordings/${hit.sessionId}?t=${second + 1}`} prefetch={false} className="text-sm font-medium text-indigo-700">
                      {hit.username} on {hit.targetName} · {hit.startedAt.toISOString().slice(0, 16).replace("T", " ")} · at {Math.floor(second / 60)}:{String(second % 60).padStart(2, "0")}
                    </Link>{" "}
                    <Link href={`/sessions/${hit.sessionId}`} className="text-xs text-indigo-700" aria-label={`Details of ${hit.username} on ${hit.targetName}`}>
                      session details
                    </Link>
                    <pre className="mt-1 overflow-x-auto text-xs whitespace-pre-wrap text-slate-700">
                      {hit.before ? <span className="text-slate-400">{hit.before}{"\n"}</span> : null}
                      <mark className="bg-amber-100">{hit.kind === "command" ? `$ ${hit.text}` : hit.text}</mark>
                      {hit.after ? <span className="text-slate-400">{"\n"}{hit.after}</span> : null}
                    </pre>
                  </Card>
                </li>
              );
            })}
          </ul>
        </section>
      ) : null}
      <PageTitle description={seesEveryone ? "Every session through this gateway, newest first." : "Your sessions through this gateway, newest first."}>Sessions</PageTitle>
      <form className="mb-6 grid grid-cols-2 gap-3 sm:grid-cols-7" aria-label="Filter sessions">
        {seesEveryone ? (
          <label className="text-sm">
            User
            <input name="user" defaultValue={raw.user} className={inputStyle} />
          </label>
        ) : null}
        <label className="text-sm">
          Target
          <input name="target" defaultValue={raw.target} className={inputStyle} />
        </label>
        <label className="text-sm">
          Protocol
          <select name="protocol" defaultValue={raw.protocol ?? ""} className={inputStyle}>
            <option value="">Any</option>
            <ProtocolOptions />
          </select>
        </label>
        <label className="text-sm">
          Status
          <select name="status" defaultValue={raw.status ?? ""} className={inputStyle}>
            <option value="">Any</option>
            <option value="live">Live</option>
            <option value="ended">Ended</option>
            <option value="interrupted">Interrupted</option>
          </select>
        </label>
        <label className="text-sm">
          Risk
          <select name="risk" defaultValue={raw.risk ?? ""} className={inputStyle}>
            <option value="">Any</option>
            <option value="risky">Rules matched</option>
          </select>
        </label>
        <label className="text-sm">
          Sort
          <select name="sort" defaultValue={raw.sort ?? ""} className={inputStyle}>
            <option value="">Newest first</option>
            <option value="risk">Riskiest first</option>
          </select>
        </label>
        <label className="text-sm">
          From
          <input type="date" name="from" defaultValue={raw.from} className={inputStyle} />
        </label>
        <label className="text-sm">
          To
          <input type="date" name="to" defaultValue={raw.to} className={inputStyle} />
        </label>
        <div className="flex items-end">
          <button type="submit" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
            Filter
          </button>
        </div>
      </form>
      {!parsed.success ? (
        <p role="alert" className="mb-4 text-sm text-red-700">
          {parsed.error.issues[0]?.message}
        </p>
      ) : null}
      {raw.after || next ? (
        <nav aria-label="Pages of sessions" className="mb-2 flex gap-4 text-sm">
          <span className="text-slate-600">{next ? `${rows.length} sessions on this page, more after it` : `${rows.length} sessions on this page, the last`}</span>
          {raw.after ? (
            <Link href={pageLink()} className="font-medium text-indigo-700">
              First page
            </Link>
          ) : null}
          {next ? (
            <Link href={pageLink(next)} className="font-medium text-indigo-700">
              Next page
            </Link>
          ) : null}
        </nav>
      ) : null}
      {rows.length === 0 ? (
        <EmptyState title="No sessions match">Sessions appear here as soon as someone connects to a target.</EmptyState>
      ) : (
        <Card className="overflow-x-auto">
          <DataTable caption="Sessions" columns={["Started", "User", "Target", "Duration", "Status", "Risk", "Node", ""]}>
              {rows.map((row) => (
                <tr key={row.id} className="border-t border-slate-100" data-session-id={row.id}>
                  <td className="py-1.5 whitespace-nowrap">{row.startedAt.toISOString().replace("T", " ").slice(0, 19)}</td>
                  <td className="py-1.5">{row.username}</td>
                  <td className="py-1.5">
                    {row.targetName} <Badge>{row.protocol.toUpperCase()}</Badge>
                  </td>
                  <td className="py-1.5">{spanOfTime((row.endedAt ?? new Date()).getTime() - row.startedAt.getTime())}</td>
                  <td className="py-1.5">
                    {row.status === "ended" ? `ended (${row.endReason?.replace("_", " ")})` : row.status}
                    {row.preventPurge ? (
                      <span className="ml-2" data-testid="legal-hold">
                        <Badge>On hold</Badge>
                      </span>
                    ) : null}
                  </td>
                  <td className="py-1.5" data-testid="risk-score">
                    {row.riskScore > 0 ? (
                      <Link href={`/sessions/${row.id}/risk`} className="font-semibold text-red-700" aria-label={`Risk analysis of ${row.username} on ${row.targetName}: score ${row.riskScore}`}>
                        {row.riskScore}
                      </Link>
                    ) : (
                      <span className="text-slate-400">0</span>
                    )}
                  </td>
                  <td className="py-1.5 text-slate-500">{row.node}</td>
                  <td className="py-1.5 text-right whitespace-nowrap">
                    {seesEveryone ? (
                      <Link href={`/sessions/${row.id}`} className="mr-3 font-medium text-indigo-700" aria-label={`Details of ${row.username} on ${row.targetName}`}>
                        Details
                      </Link>
                    ) : null}
                    {opensRecordings && row.recorded ? (
                      <span className="space-x-3">
                        <Link href={`/recordings/${row.id}`} className="font-medium text-indigo-700" aria-label={`Play the recording of ${row.username} on ${row.targetName}`}>
                          Play
                        </Link>
                        <a href={`/api/recordings/${row.id}/export`} className="font-medium text-indigo-700" aria-label={`Download the recording of ${row.username} on ${row.targetName}`}>
                          Download .{recordingExports[exportKindOf(row.protocol)].extension}
                        </a>
                      </span>
                    ) : null}
                  </td>
                </tr>
              ))}
          </DataTable>
        </Card>
      )}
    </>
  );
}
