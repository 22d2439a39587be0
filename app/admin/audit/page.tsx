import { Button, Card, DataTable, Field, PageTitle, TextInput } from "@/app/_ui/primitives";
import { listAuditEntries, verifyAuditChain } from "@/lib/audit";
import { readAuditAnchors } from "@/lib/audit-anchors";
import { requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/runtime";

/** Common starts of actions, offered in the filter. */
const actionHints = ["login", "recording.", "recording.read", "recording.search", "recording.export", "session.", "web.request", "connect", "target.", "user."];

export default async function AuditPage({ searchParams }: { searchParams: Promise<{ action?: string; actor?: string }> }) {
  await requirePageUser(["admin", "security"]);
  const { db } = runtime();
  const { action, actor } = await searchParams;
  const filter = { action: action?.trim().slice(0, 100) || undefined, actor: actor?.trim().slice(0, 100) || undefined };
  const [chain, entries] = await Promise.all([verifyAuditChain(db, await readAuditAnchors({ blobStore: runtime().blobStore, file: runtime().config.evidence.anchorFile })), listAuditEntries(db, 200, filter)]);
  return (
    <>
      <PageTitle description="Every sign-in, change and connection, newest first. Each entry is chained to the one before it.">Audit log</PageTitle>
      <p role="status" className={`mb-4 rounded-md px-3 py-2 text-sm ${chain.intact ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-800"}`}>
        {chain.intact
          ? `Chain verified: ${chain.rows} entries intact, signed with the evidence key, consistent with ${chain.anchors} anchor(s) kept outside the database. Head ${chain.headHash.slice(0, 16)}…`
          : `Chain broken at entry #${chain.brokenAtSeq} (${chain.problem}${chain.detail ? `: ${chain.detail}` : ""}); ${chain.rows} entries before it are intact.`}
      </p>
      <form method="get" className="mb-4 flex flex-wrap items-end gap-3" aria-label="Filter the audit log">
        <Field label="Action starts with" id="audit-action">
          <TextInput id="audit-action" name="action" defaultValue={filter.action ?? ""} list="audit-actions" placeholder="recording." />
        </Field>
        <datalist id="audit-actions">
          {actionHints.map((hint) => (
            <option key={hint} value={hint} />
          ))}
        </datalist>
        <Field label="Actor" id="audit-actor">
          <TextInput id="audit-actor" name="actor" defaultValue={filter.actor ?? ""} />
        </Field>
        <Button type="submit">Filter</Button>
      </form>
      <Card className="overflow-x-auto">
        <DataTable caption="Audit entries" columns={["#", "Time", "Actor", "Action", "Outcome", "Object", "Source", "Details"]}>
            {entries.map((entry) => (
              <tr key={entry.seq} className="border-t border-slate-100 align-top">
                <td className="py-1.5 text-slate-500">{entry.seq}</td>
                <td className="py-1.5 whitespace-nowrap">{entry.at.toISOString().replace("T", " ").slice(0, 19)}</td>
                <td className="py-1.5">{entry.actorName}</td>
                <td className="py-1.5 font-mono">{entry.action}</td>
                <td className={`py-1.5 ${entry.outcome === "success" ? "" : "font-medium text-red-700"}`}>{entry.outcome}</td>
                <td className="py-1.5 font-mono text-xs">{entry.objectType ? `${entry.objectType}:${entry.objectId?.slice(0, 8)}` : ""}</td>
                <td className="py-1.5">{entry.sourceIp}</td>
                <td className="py-1.5 font-mono text-xs text-slate-600">{JSON.stringify(entry.details)}</td>
              </tr>
            ))}
        </DataTable>
      </Card>
    </>
  );
}
