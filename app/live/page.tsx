import Link from "next/link";
import { Card, PageTitle } from "@/app/_ui/primitives";
import { hasRole, requirePageUser } from "@/lib/auth/current-user";
import { flaggedSessions } from "@/lib/data/governance/audits";
import { runtime } from "@/lib/infra/runtime";
import { LiveDashboard } from "./live-dashboard";
import { SessionsChart } from "./sessions-chart";

export default async function LivePage() {
  const user = await requirePageUser(["security", "admin"]);
  const flagged = await flaggedSessions(runtime().db);
  return (
    <>
      <PageTitle description="Every session on every gateway node, as it happens. Watch one, or lock, pause or end it; each control asks for a reason and is audited.">
        Live sessions
      </PageTitle>
      {flagged.length > 0 ? (
        <Card className="mb-6 border-red-200">
          <h2 className="mb-2 font-semibold text-red-800">Flagged by auditors</h2>
          <ul className="space-y-1 text-sm" aria-label="Flagged sessions">
            {flagged.map((row) => (
              <li key={row.sessionId}>
                <Link href={`/recordings/${row.sessionId}`} className="font-medium text-indigo-700">
                  {row.username} on {row.targetName}
                </Link>{" "}
                <span className="text-slate-600">
                  flagged by {row.reviewedBy}
                  {row.notes ? `: ${row.notes}` : ""}
                </span>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
      <SessionsChart />
      <LiveDashboard opensRecordings={hasRole(user, ["reviewer", "admin"])} />
    </>
  );
}
