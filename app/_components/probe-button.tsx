"use client";
// Asks the gateway whether it can reach a target, through the same ticket + WebSocket path a session uses.
import { useState } from "react";
import { Button } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import { probeResultSchema } from "@/lib/protocol/probe";
import type { TicketResponse } from "@/lib/protocol/tickets";

type State = { kind: "idle" } | { kind: "checking" } | { kind: "done"; message: string; good: boolean };

export function ProbeButton({ targetId, targetName }: { targetId: string; targetName: string }) {
  const [state, setState] = useState<State>({ kind: "idle" });

  async function check() {
    setState({ kind: "checking" });
    const ticket = await callApi<TicketResponse>("POST", "/api/tickets", { targetId, purpose: "probe" });
    if (!ticket.ok) return setState({ kind: "done", message: ticket.error, good: false });
    const socket = new WebSocket(new URL(ticket.data.url, window.location.href.replace(/^http/, "ws")));
    socket.onmessage = (event) => {
      const result = probeResultSchema.safeParse(JSON.parse(String(event.data)));
      if (!result.success) return setState({ kind: "done", message: "Unexpected answer from the gateway", good: false });
      setState(
        result.data.reachable
          ? { kind: "done", message: `Reachable (${result.data.milliseconds} ms)`, good: true }
          : { kind: "done", message: result.data.error ?? "Not reachable", good: false },
      );
    };
    socket.onclose = (event) => {
      if (event.code !== 1000) setState({ kind: "done", message: event.reason || `Connection closed (${event.code})`, good: false });
    };
  }

  return (
    <div className="flex items-center gap-3">
      <Button variant="secondary" onClick={check} disabled={state.kind === "checking"} aria-label={`Check whether ${targetName} is reachable`}>
        {state.kind === "checking" ? "Checking…" : "Check reachability"}
      </Button>
      {state.kind === "done" ? (
        <span role="status" className={`text-sm ${state.good ? "text-emerald-700" : "text-red-700"}`}>
          {state.message}
        </span>
      ) : null}
    </div>
  );
}
