"use client";
// Commands (or web requests) the command policy holds for security: each is approved or denied here, with a
// reason that goes to the audit log, before its time runs out. Read every second from whichever node holds them.
import { useEffect, useState } from "react";
import { Button } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import type { HeldCommand } from "@/lib/protocol/command-rules";

function HeldCommandCard({ sessionId, hold }: { sessionId: string; hold: HeldCommand }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function decide(decision: "approve" | "deny") {
    setBusy(true);
    const result = await callApi("POST", `/api/sessions/${sessionId}/holds/${hold.holdId}`, { decision, reason });
    setBusy(false);
    setError(result.ok ? undefined : (result.fields?.reason ?? result.error));
  }

  return (
    <li data-testid="held-command" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
      <p className="font-semibold text-amber-900">
        Waiting for approval: {hold.ruleName} ({hold.severity}), until {new Date(hold.expiresAt).toLocaleTimeString()}
      </p>
      <pre className="my-2 whitespace-pre-wrap break-all rounded bg-white px-2 py-1 font-mono text-xs">{hold.subject}</pre>
      <div className="flex flex-wrap items-center gap-2">
        <label className="sr-only" htmlFor={`hold-reason-${hold.holdId}`}>
          Reason
        </label>
        <input
          id={`hold-reason-${hold.holdId}`}
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          placeholder="Reason (audited)"
          className="w-56 rounded-md border border-slate-300 px-2 py-1 text-sm"
        />
        <Button type="button" disabled={busy} onClick={() => void decide("approve")}>
          Approve
        </Button>
        <Button type="button" variant="danger" disabled={busy} onClick={() => void decide("deny")}>
          Deny
        </Button>
      </div>
      {error ? (
        <p role="alert" className="mt-1 text-red-700">
          {error}
        </p>
      ) : null}
    </li>
  );
}

const refreshEveryMs = 1_000;

export function HeldCommands({ sessionId }: { sessionId: string }) {
  const [holds, setHolds] = useState<HeldCommand[]>([]);
  useEffect(() => {
    let stopped = false;
    const refresh = async () => {
      const result = await callApi<HeldCommand[]>("GET", `/api/sessions/${sessionId}/holds`);
      if (!stopped && result.ok) setHolds(result.data);
    };
    void refresh();
    const timer = setInterval(() => void refresh(), refreshEveryMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [sessionId]);
  if (holds.length === 0) return null;
  return (
    <ul aria-label="Held for approval" className="space-y-2">
      {holds.map((hold) => (
        <HeldCommandCard key={hold.holdId} sessionId={sessionId} hold={hold} />
      ))}
    </ul>
  );
}
