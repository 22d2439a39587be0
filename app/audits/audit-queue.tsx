"use client";
import Link from "next/link";
import { useState } from "react";
import { Badge, Button, Card, EmptyState, FormError } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";

interface AuditRow {
  sessionId: string;
  policyId: string;
  policyName: string;
  status: "pending" | "in_review" | "reviewed" | "flagged";
  notes: string;
  reviewedBy: string | null;
  reviewedAt: string | null;
  username: string;
  targetName: string;
  protocol: string;
  startedAt: string;
}

const statusLabels = { pending: "Pending", in_review: "In review", reviewed: "Reviewed", flagged: "Flagged" };

function AuditCard({ row }: { row: AuditRow }) {
  const [notes, setNotes] = useState(row.notes);
  const { formError, submit } = useApiForm();
  const label = `${row.username} on ${row.targetName}`;
  const mark = (status: "in_review" | "reviewed" | "flagged") => submit("PATCH", `/api/audits/${row.sessionId}/${row.policyId}`, { status, notes });
  return (
    <li aria-label={`Audit of ${label}`}>
      <Card>
        <div className="flex flex-wrap items-baseline justify-between gap-3">
          <h2 className="font-semibold">
            {label} <Badge>{row.protocol.toUpperCase()}</Badge>
          </h2>
          <span data-testid="audit-status">
            <Badge>{statusLabels[row.status]}</Badge>
          </span>
        </div>
        <p className="mt-1 text-sm text-slate-600">
          Started {new Date(row.startedAt).toLocaleString()} · policy {row.policyName}
          {row.reviewedBy ? ` · ${statusLabels[row.status].toLowerCase()} by ${row.reviewedBy}${row.reviewedAt ? ` ${new Date(row.reviewedAt).toLocaleString()}` : ""}` : ""}
        </p>
        <label className="mt-3 block text-sm">
          <span className="text-slate-700">Notes</span>
          <textarea value={notes} onChange={(event) => setNotes(event.target.value)} rows={2} aria-label={`Notes on ${label}`} className="mt-1 block w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm" />
        </label>
        <FormError message={formError} />
        <div className="mt-3 flex flex-wrap gap-2">
          <Link href={`/recordings/${row.sessionId}`} className="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
            Open the recording
          </Link>
          {row.status === "pending" ? (
            <Button variant="secondary" onClick={() => void mark("in_review")}>
              Start review
            </Button>
          ) : null}
          <Button onClick={() => void mark("reviewed")} aria-label={`Mark ${label} reviewed`}>
            Reviewed
          </Button>
          <Button variant="danger" onClick={() => void mark("flagged")} aria-label={`Flag ${label}`}>
            Flag
          </Button>
        </div>
      </Card>
    </li>
  );
}

export function AuditQueue({ rows }: { rows: AuditRow[] }) {
  if (rows.length === 0) return <EmptyState title="Nothing to audit">Sessions appear here when a policy names you as an auditor of its targets.</EmptyState>;
  return (
    <ul className="space-y-4" aria-label="Sessions for audit">
      {rows.map((row) => (
        <AuditCard key={`${row.sessionId}-${row.policyId}`} row={row} />
      ))}
    </ul>
  );
}
