import Link from "next/link";
import { listSessionEvents } from "@/lib/session-events";
import { runtime } from "@/lib/runtime";

type TimelineEvent = Awaited<ReturnType<typeof listSessionEvents>>[number];

/** One line of the timeline: who did what, or for a web session the page opened or the request made. */
function describe({ kind, actorName, details }: TimelineEvent) {
  const text = (key: string) => (typeof details[key] === "string" || typeof details[key] === "number" ? String(details[key]) : "");
  if (kind === "web.navigation") return `${actorName} opened ${text("path")}`;
  if (kind === "web.request") return `${text("method")} ${text("path")} → ${text("status")} (${text("bytes")} bytes, ${text("ms")} ms)`;
  if (kind === "web.page_unrecorded") return `page not recorded: ${text("reason")} (${text("path")})`;
  if (kind === "web.recorder_silent") return `no page is recording: ${text("reason")}`;
  if (kind === "web.recording_limited") return `recording limited: ${text("reason")}`;
  return `${kind.replace(/[._]/g, " ")} by ${actorName}${text("reason") ? `: ${text("reason")}` : ""}`;
}

/**
 * What happened to a session besides its bytes: watchers, locks, pauses, terminations, with who and why; for a
 * web session its pages and requests. `seekable` makes each moment a link that plays the recording from there.
 */
export async function SessionTimeline({ sessionId, startedAt, seekable = false }: { sessionId: string; startedAt: Date; seekable?: boolean }) {
  const events = await listSessionEvents(runtime().db, sessionId);
  return (
    <section className="mt-6" aria-label="Session timeline">
      <h2 className="mb-2 text-sm font-semibold text-slate-700">Session timeline</h2>
      <ul className="max-h-[32rem] space-y-1 overflow-y-auto text-sm text-slate-700">
        <li>{startedAt.toISOString().slice(11, 19)} — session started</li>
        {events.map((event) => {
          const time = event.at.toISOString().slice(11, 19);
          const atMs = Math.max(0, event.at.getTime() - startedAt.getTime());
          return (
            <li key={event.id} className={event.kind === "web.request" ? "text-slate-500" : undefined}>
              {seekable ? (
                <Link href={`?t=${atMs}`} className="font-mono text-indigo-700" aria-label={`Play from ${time}`}>
                  {time}
                </Link>
              ) : (
                <span className="font-mono">{time}</span>
              )}{" "}
              — {describe(event)}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
