"use client";
import { Badge, Button, Card, DataTable, FormError } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";
import type { RequestView } from "@/lib/data/governance/requests";

const shortTime = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "—");

/** The caller's requests, with what became of each and a Cancel while it can still be withdrawn. */
export function RequestList({ requests }: { requests: RequestView[] }) {
  const { formError, submit } = useApiForm();
  async function cancel(request: RequestView) {
    if (!window.confirm(`Cancel your request for ${request.targets.map((target) => target.name).join(", ")}? Sessions under it end.`)) return;
    await submit("POST", `/api/requests/${request.id}/cancel`, { reason: "cancelled by the requester" });
  }
  return (
    <Card>
      <FormError message={formError} />
      {requests.length === 0 ? (
        <p className="text-sm text-slate-600">You have made no requests yet.</p>
      ) : (
        <DataTable caption="Your access requests" columns={["Resources", "Activity", "Window", "Status", ""]}>
          {requests.map((request) => (
            <tr key={request.id} className="border-t border-slate-100 align-top" data-testid={`request-${request.id}`}>
              <td className="py-2 font-medium">{request.targets.map((target) => target.name).join(", ")}</td>
              <td className="py-2">
                {request.activity}
                {request.ticket ? <span className="block font-mono text-xs text-slate-600">{request.ticket}</span> : null}
              </td>
              <td className="py-2 text-xs text-slate-600">
                {request.windowStartsAt ? `${shortTime(request.windowStartsAt)} – ${shortTime(request.windowEndsAt)}` : `${shortTime(request.startsAt)}, ${request.durationMinutes} min`}
              </td>
              <td className="py-2">
                <Badge>{request.phase}</Badge>
                {request.decisions.map((decision) => (
                  <span key={decision.approver} className="block text-xs text-slate-600">
                    {decision.decision === "approve" ? "Approved" : "Denied"} by {decision.approver}
                    {decision.comment ? `: ${decision.comment}` : ""}
                  </span>
                ))}
                {request.closedReason && request.status !== "denied" ? <span className="block text-xs text-slate-600">{request.closedReason}</span> : null}
              </td>
              <td className="py-2 text-right">
                {request.status === "pending" || request.status === "approved" ? (
                  <Button variant="secondary" onClick={() => cancel(request)} aria-label={`Cancel request for ${request.targets.map((target) => target.name).join(", ")}`}>
                    Cancel
                  </Button>
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </Card>
  );
}
