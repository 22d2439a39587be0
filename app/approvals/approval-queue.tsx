"use client";
import { useState } from "react";
import { Badge, Button, Card, EmptyState, FormError } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";
import type { approvalQueue } from "@/lib/data/governance/requests";

type QueuedRequest = Awaited<ReturnType<typeof approvalQueue>>[number];

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

function QueuedRequestCard({ request }: { request: QueuedRequest }) {
  const [comment, setComment] = useState("");
  const { formError, submit } = useApiForm();
  const label = `${request.requester} for ${request.targets.map((target) => target.name).join(", ")}`;
  return (
    <li>
      <Card>
        <div className="flex items-baseline justify-between gap-4">
          <h2 className="font-semibold">{label}</h2>
          <Badge>{request.phase}</Badge>
        </div>
        <dl className="mt-2 grid grid-cols-[7rem_1fr] gap-y-1 text-sm">
          <dt className="text-slate-500">Activity</dt>
          <dd>{request.activity}</dd>
          <dt className="text-slate-500">Ticket</dt>
          <dd className="font-mono">{request.ticket ?? "—"}</dd>
          <dt className="text-slate-500">Asked for</dt>
          <dd>
            {request.durationMinutes} min from {time(request.startsAt)}
          </dd>
          {request.windowStartsAt ? (
            <>
              <dt className="text-slate-500">Granted</dt>
              <dd>
                {time(request.windowStartsAt)} – {time(request.windowEndsAt)}
              </dd>
            </>
          ) : null}
          <dt className="text-slate-500">Notes</dt>
          <dd className="whitespace-pre-wrap">{request.notes || "—"}</dd>
          <dt className="text-slate-500">Approvals</dt>
          <dd>
            {request.decisions.filter((decision) => decision.decision === "approve").length} of {request.requiredApprovals}
            {request.decisions.map((decision) => (
              <span key={decision.approver} className="block text-xs text-slate-600">
                {decision.decision === "approve" ? "Approved" : "Denied"} by {decision.approver}
                {decision.comment ? `: ${decision.comment}` : ""}
              </span>
            ))}
          </dd>
        </dl>
        <FormError message={formError} />
        <div className="mt-3 flex flex-wrap items-end gap-2">
          {request.mayDecide ? (
            <>
              <label className="grow text-sm">
                <span className="block text-slate-700">Comment</span>
                <input value={comment} onChange={(event) => setComment(event.target.value)} className="mt-1 w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm" aria-label={`Comment on request by ${label}`} />
              </label>
              <Button onClick={() => submit("POST", `/api/requests/${request.id}/decision`, { decision: "approve", comment })} aria-label={`Approve request by ${label}`}>
                Approve
              </Button>
              <Button variant="danger" onClick={() => submit("POST", `/api/requests/${request.id}/decision`, { decision: "deny", comment })} aria-label={`Deny request by ${label}`}>
                Deny
              </Button>
            </>
          ) : null}
          {request.status === "approved" ? (
            <Button
              variant="danger"
              onClick={() => {
                const reason = window.prompt(`Why is the access granted to ${label} revoked? Its sessions end now.`);
                if (reason !== null) void submit("POST", `/api/requests/${request.id}/revoke`, { reason });
              }}
              aria-label={`Revoke request by ${label}`}
            >
              Revoke
            </Button>
          ) : null}
        </div>
      </Card>
    </li>
  );
}

export function ApprovalQueue({ requests }: { requests: QueuedRequest[] }) {
  if (requests.length === 0) return <EmptyState title="Nothing waits for you">Requests you may approve appear here, and you are told of them by e-mail.</EmptyState>;
  return (
    <ul className="space-y-4" aria-label="Requests">
      {requests.map((request) => (
        <QueuedRequestCard key={request.id} request={request} />
      ))}
    </ul>
  );
}
