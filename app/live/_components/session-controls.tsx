"use client";
// Security's controls over one live session, on the dashboard row and the watch page: each asks for a
// reason (it goes to the audit log) before it is sent.
import { useState } from "react";
import { Button } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import { controlsFor, type ControlAction, type LiveState } from "@/lib/protocol/live";

const labels: Record<ControlAction, string> = {
  lock: "Lock",
  unlock: "Unlock",
  pause: "Pause",
  resume: "Resume",
  terminate: "Terminate",
  terminate_and_cancel: "Terminate and cancel access",
};

export function SessionControls({ sessionId, state, protocol, who, onDone }: { sessionId: string; state: LiveState; protocol: string; who: string; onDone?: () => void }) {
  const [pending, setPending] = useState<ControlAction | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function send() {
    if (!pending) return;
    setBusy(true);
    const result = await callApi("POST", `/api/sessions/${sessionId}/control`, { action: pending, reason });
    setBusy(false);
    if (!result.ok) return setError(result.fields?.reason ?? result.error);
    setError(undefined);
    setPending(null);
    setReason("");
    onDone?.();
  }

  if (pending) {
    return (
      <form
        className="flex flex-wrap items-center justify-end gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        <label className="sr-only" htmlFor={`reason-${sessionId}`}>
          Reason to {labels[pending].toLowerCase()} {who}
        </label>
        <input
          id={`reason-${sessionId}`}
          autoFocus
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          placeholder="Reason (audited)"
          className="w-48 rounded-md border border-slate-300 px-2 py-1 text-sm"
        />
        <Button type="submit" variant={pending.startsWith("terminate") ? "danger" : "primary"} disabled={busy}>
          Confirm {labels[pending].toLowerCase()}
        </Button>
        <Button type="button" variant="secondary" onClick={() => setPending(null)}>
          Cancel
        </Button>
        {error ? (
          <span role="alert" className="w-full text-right text-xs text-red-700">
            {error}
          </span>
        ) : null}
      </form>
    );
  }
  return (
    <div className="flex flex-wrap justify-end gap-1.5">
      {controlsFor(state, protocol).map((action) => (
        <Button key={action} variant={action.startsWith("terminate") ? "danger" : "secondary"} onClick={() => setPending(action)} aria-label={`${labels[action]} ${who}`}>
          {labels[action]}
        </Button>
      ))}
    </div>
  );
}
