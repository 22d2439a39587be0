import { PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { auditQueue } from "@/lib/data/governance/audits";
import { runtime } from "@/lib/infra/runtime";
import { AuditQueue } from "./audit-queue";

export default async function AuditsPage() {
  const user = await requirePageUser();
  const rows = await auditQueue(runtime().db, user);
  return (
    <>
      <PageTitle description="Sessions your policies give you to audit: open the recording, then mark it reviewed or flag it, with notes.">Sessions for audit</PageTitle>
      <AuditQueue rows={rows.map((row) => ({ ...row, startedAt: row.startedAt.toISOString(), reviewedAt: row.reviewedAt?.toISOString() ?? null }))} />
    </>
  );
}
