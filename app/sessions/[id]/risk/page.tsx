import Link from "next/link";
import { headers } from "next/headers";
import { notFound } from "next/navigation";
import { Card, DataTable, EmptyState, PageTitle } from "@/app/_ui/primitives";
import { actorOf, requirePageUser } from "@/lib/auth/current-user";
import { readRiskAnalysis } from "@/lib/data/command-policy/risk-access";
import { ApiError } from "@/lib/domain/errors";
import { clientAddress } from "@/lib/infra/request-context";
import { runtime } from "@/lib/infra/runtime";

const severityStyle = { low: "bg-slate-100 text-slate-800", medium: "bg-amber-100 text-amber-900", high: "bg-orange-100 text-orange-900", critical: "bg-red-100 text-red-900" } as const;

/** The risk analysis of one session: every rule that matched, what the gateway did, and the commands around it. */
export default async function RiskAnalysisPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageUser();
  const { id } = await params;
  const analysis = await readRiskAnalysis(runtime().db, user, actorOf(user, clientAddress(await headers())), id).catch((error: unknown) => {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) notFound();
    throw error;
  });
  const { session, events } = analysis;
  return (
    <>
      <PageTitle description={`Risk score ${session.riskScore} · ${events.length} event${events.length === 1 ? "" : "s"} · started ${session.startedAt.toISOString().replace("T", " ").slice(0, 19)} UTC`}>
        Risk analysis: {session.username} on {session.targetName}
      </PageTitle>
      {events.length === 0 ? (
        <EmptyState title="No rule matched in this session">Commands, output and requests were checked against the command policy as the session ran.</EmptyState>
      ) : (
        <Card>
          <DataTable caption="Risk events" columns={["When", "Severity", "Rule", "What happened", "Matched, with the commands around it", ""]}>
            {events.map((event) => {
              const second = Math.floor(event.offsetSeconds);
              return (
                <tr key={event.id} data-testid="risk-event" className="align-top">
                  <td className="px-3 py-2 font-mono text-xs">{event.at.slice(11, 19)}</td>
                  <td className="px-3 py-2">
                    <span className={`rounded px-2 py-0.5 text-xs font-semibold ${severityStyle[event.severity]}`}>{event.severity}</span>
                  </td>
                  <td className="px-3 py-2 text-sm">{event.ruleName}</td>
                  <td className="px-3 py-2 text-sm">
                    {event.outcome}
                    {event.decidedBy ? ` by ${event.decidedBy}` : ""}
                  </td>
                  <td className="px-3 py-2">
                    <pre className="font-mono text-xs whitespace-pre-wrap break-all">
                      {event.before.map((command) => `$ ${command}\n`).join("")}
                      <mark className="bg-red-100">{event.subject}</mark>
                      {event.after.map((command) => `\n$ ${command}`).join("")}
                    </pre>
                  </td>
                  <td className="px-3 py-2 text-sm">
                    <Link className="text-indigo-700" href={`/recordings/${session.id}?t=${second + 1}`} prefetch={false}>
                      Play at {Math.floor(second / 60)}:{String(second % 60).padStart(2, "0")}
                    </Link>
                  </td>
                </tr>
              );
            })}
          </DataTable>
        </Card>
      )}
    </>
  );
}
