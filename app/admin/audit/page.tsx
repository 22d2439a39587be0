import Link from "next/link";
import { Button, Card, DataTable, Field, PageTitle, Select, TextInput } from "@/app/_ui/primitives";
import { readAuditLog } from "@/lib/data/audit-reading";
import { requirePageUser } from "@/lib/auth/current-user";
import { sinkStates } from "@/lib/data/stream-cursors";
import { sinkView } from "@/lib/infra/event-stream/sinks";
import { auditPageSchema, auditPageSize } from "@/lib/protocol/audit";
import { runtime } from "@/lib/infra/runtime";

/** Common starts of actions, offered in the filter. */
const actionHints = ["login", "recording.", "recording.read", "recording.search", "recording.export", "session.", "web.request", "connect", "target.", "user.", "audit.export"];

/** The filters as they came, to carry into the next page's and the exports' links. */
const filterNames = ["action", "actor", "objectType", "objectId", "outcome", "from", "to"] as const;

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string>> }) {
  await requirePageUser(["admin", "security"]);
  const raw = await searchParams;
  const parsed = auditPageSchema.safeParse(raw);
  const { before, ...filter } = parsed.success ? parsed.data : { before: undefined };
  const { db, config } = runtime();
  const [{ chain, checkedFromSeq, wholeWalkedAt, entries, olderBefore }, sinks] = await Promise.all([
    readAuditLog(filter, before, { wholeChain: raw.verify === "whole" }),
    sinkStates(db, config.siemSinks.map((sink) => sink.name)),
  ]);
  const carried = new URLSearchParams(filterNames.flatMap((name) => (raw[name] ? [[name, raw[name]]] : [])));
  const withParams = (path: string, extra: Record<string, string>) => `${path}?${new URLSearchParams([...carried, ...Object.entries(extra)])}`;
  return (
    <>
      <PageTitle description="Every sign-in, change and connection, newest first. Each entry is chained to the one before it.">Audit log</PageTitle>
      <div role="status" className={`mb-4 rounded-md px-3 py-2 text-sm ${chain.intact ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-800"}`}>
        {chain.intact
          ? `Chain verified: ${chain.rows} entries intact, signed with the evidence key, consistent with ${chain.anchors} anchor(s) kept outside the database. Head ${chain.headHash.slice(0, 16)}…`
          : `Chain broken at entry #${chain.brokenAtSeq} (${chain.problem}${chain.detail ? `: ${chain.detail}` : ""}); ${chain.rows} entries before it are intact.`}
        {chain.intact ? (
          <span className="block text-xs">
            {checkedFromSeq > 1 ? `Entries from #${checkedFromSeq} checked now; ` : "The whole chain was checked now; "}
            {wholeWalkedAt ? `the whole chain was last walked at ${wholeWalkedAt.toISOString().slice(11, 19)} UTC. ` : ""}
            <Link href={withParams("/admin/audit", { verify: "whole" })} className="font-medium underline">
              Walk the whole chain now
            </Link>
          </span>
        ) : null}
      </div>
      {sinks.length > 0 ? (
        <Card className="mb-4">
          <DataTable caption="Streaming to SIEMs" columns={["Sink", "Sends to", "Delivered up to", "Waiting", "Sending node", "Last error"]}>
            {config.siemSinks.map((sink, index) => {
              const state = sinks[index]!;
              const view = sinkView(sink);
              return (
                <tr key={sink.name} className="border-t border-slate-100 align-top" data-testid={`sink-${sink.name}`}>
                  <td className="py-2 font-medium">
                    {sink.name} <span className="text-xs text-slate-500">({view.type}, {view.format})</span>
                  </td>
                  <td className="font-mono text-xs">{view.destination}</td>
                  <td>
                    #{state.deliveredSeq}
                    {state.deliveredAt ? <div className="text-xs text-slate-500">{state.deliveredAt.slice(0, 19).replace("T", " ")} UTC</div> : null}
                  </td>
                  <td className={state.backlog > 0 ? "font-medium text-amber-700" : undefined}>{state.backlog}</td>
                  <td>{state.sendingNode ?? "—"}</td>
                  <td className="text-red-700">{state.lastError ? `${state.lastError} (${state.lastErrorAt!.slice(11, 19)} UTC)` : "—"}</td>
                </tr>
              );
            })}
          </DataTable>
        </Card>
      ) : null}
      <form method="get" className="mb-4 grid grid-cols-2 items-end gap-3 md:grid-cols-4" aria-label="Filter the audit log">
        <Field label="Action starts with" id="audit-action" error={parsed.success ? undefined : fieldError(parsed.error.issues, "action")}>
          <TextInput id="audit-action" name="action" defaultValue={raw.action ?? ""} list="audit-actions" placeholder="recording." />
        </Field>
        <datalist id="audit-actions">
          {actionHints.map((hint) => (
            <option key={hint} value={hint} />
          ))}
        </datalist>
        <Field label="Actor" id="audit-actor">
          <TextInput id="audit-actor" name="actor" defaultValue={raw.actor ?? ""} />
        </Field>
        <Field label="Object type" id="audit-object-type">
          <TextInput id="audit-object-type" name="objectType" defaultValue={raw.objectType ?? ""} placeholder="session, target, user…" />
        </Field>
        <Field label="Object id" id="audit-object-id">
          <TextInput id="audit-object-id" name="objectId" defaultValue={raw.objectId ?? ""} />
        </Field>
        <Field label="Outcome" id="audit-outcome">
          <Select id="audit-outcome" name="outcome" defaultValue={raw.outcome ?? ""}>
            <option value="">Any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="refused">refused</option>
          </Select>
        </Field>
        <Field label="From (UTC)" id="audit-from" error={parsed.success ? undefined : fieldError(parsed.error.issues, "from")}>
          <TextInput id="audit-from" name="from" type="datetime-local" defaultValue={raw.from ?? ""} />
        </Field>
        <Field label="To (UTC)" id="audit-to" error={parsed.success ? undefined : fieldError(parsed.error.issues, "to")}>
          <TextInput id="audit-to" name="to" type="datetime-local" defaultValue={raw.to ?? ""} />
        </Field>
        <div className="flex gap-2">
          <Button type="submit">Filter</Button>
          <Link href="/admin/audit" className="self-center text-sm font-medium text-indigo-700">
            Clear
          </Link>
        </div>
      </form>
      {parsed.success ? null : (
        <p role="alert" className="mb-4 text-sm text-red-700">
          The filters need attention; showing the whole log.
        </p>
      )}
      <div className="mb-2 flex flex-wrap items-center gap-4 text-sm">
        <span className="text-slate-600">
          {entries.length === 0 ? "No entries match." : `Entries #${entries[0]!.seq} to #${entries.at(-1)!.seq}${olderBefore ? `, ${auditPageSize} a page` : ""}`}
        </span>
        {before ? (
          <Link href={withParams("/admin/audit", {})} className="font-medium text-indigo-700">
            Newest
          </Link>
        ) : null}
        {olderBefore ? (
          <Link href={withParams("/admin/audit", { before: String(olderBefore) })} className="font-medium text-indigo-700">
            Older entries
          </Link>
        ) : null}
        <span className="ml-auto space-x-3">
          <a href={withParams("/api/admin/audit/export", { format: "csv" })} className="font-medium text-indigo-700">
            Export CSV
          </a>
          <a href={withParams("/api/admin/audit/export", { format: "jsonl" })} className="font-medium text-indigo-700">
            Export JSON Lines
          </a>
        </span>
      </div>
      <Card className="overflow-x-auto">
        <DataTable caption="Audit entries" columns={["#", "Time", "Actor", "Action", "Outcome", "Object", "Source", "Details"]}>
          {entries.map((entry) => (
            <tr key={entry.seq} className="border-t border-slate-100 align-top">
              <td className="py-1.5 text-slate-500">{entry.seq}</td>
              <td className="py-1.5 whitespace-nowrap">{entry.at.toISOString().replace("T", " ").slice(0, 19)}</td>
              <td className="py-1.5">{entry.actorName}</td>
              <td className="py-1.5 font-mono">{entry.action}</td>
              <td className={`py-1.5 ${entry.outcome === "success" ? "" : "font-medium text-red-700"}`}>{entry.outcome}</td>
              <td className="py-1.5 font-mono text-xs">
                {entry.objectType === "session" && entry.objectId ? (
                  <Link href={`/sessions/${entry.objectId}`} className="text-indigo-700">
                    session:{entry.objectId.slice(0, 8)}
                  </Link>
                ) : entry.objectType ? (
                  `${entry.objectType}:${entry.objectId?.slice(0, 8) ?? ""}`
                ) : (
                  ""
                )}
              </td>
              <td className="py-1.5">{entry.sourceIp}</td>
              <td className="py-1.5 font-mono text-xs text-slate-600">{JSON.stringify(entry.details)}</td>
            </tr>
          ))}
        </DataTable>
      </Card>
    </>
  );
}

function fieldError(issues: { path: PropertyKey[]; message: string }[], name: string) {
  return issues.find((issue) => issue.path[0] === name)?.message;
}
