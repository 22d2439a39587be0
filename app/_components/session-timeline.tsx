import { listSessionEvents } from "@/lib/session-events";
import { runtime } from "@/lib/runtime";

/** What happened to a session besides its bytes: watchers, locks, pauses, terminations, with who and why. */
export async function SessionTimeline({ sessionId, startedAt }: { sessionId: string; startedAt: Date }) {
  const events = await listSessionEvents(runtime().db, sessionId);
  return (
    <section className="mt-6" aria-label="Session timeline">
      <h2 className="mb-2 text-sm font-semibold text-slate-700">Session timeline</h2>
      <ul className="space-y-1 text-sm text-slate-700">
        <li>{startedAt.toISOString().slice(11, 19)} — session started</li>
        {events.map((event) => (
          <li key={event.id}>
            {event.at.toISOString().slice(11, 19)} — {event.kind.replace(/[._]/g, " ")} by {event.actorName}
            {typeof event.details.reason === "string" ? `: ${event.details.reason}` : ""}
          </li>
        ))}
      </ul>
    </section>
  );
}
