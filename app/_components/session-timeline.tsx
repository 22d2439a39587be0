import Link from "next/link";
import { momentsPerSource, type MomentSource, type SessionTimelineData } from "@/lib/data/session-details";

const sourceStyle: Record<MomentSource, string> = { session: "", audit: "text-slate-600", command: "font-mono text-slate-800", risk: "text-red-800" };
const sourceLabel: Record<MomentSource, string> = { session: "event", audit: "audit", command: "command", risk: "risk" };

/**
 * Everything that happened to a session besides its bytes, merged: watchers, controls and web pages, the audit
 * rows that name it, the commands typed, the rules that matched. `playerHref` makes each moment a link that plays
 * the recording from there (`t` in seconds, to the millisecond: a page opened within a second of another must
 * start the player on it). The page reads `timeline` once (`sessionMoments`), for this and the activity strip.
 * The links are not prefetched: each would render the whole recording page on the server, and a long session
 * has thousands.
 */
export function SessionTimeline({ session, timeline: { moments, cut }, playerHref }: { session: { id: string; startedAt: Date }; timeline: SessionTimelineData; playerHref?: string }) {
  return (
    <section className="mt-6" aria-label="Session timeline">
      <h2 className="mb-2 text-sm font-semibold text-slate-700">Session timeline</h2>
      {cut ? <p className="mb-2 text-xs text-amber-800">Long session: each kind of entry shows its first {momentsPerSource.toLocaleString("en")}.</p> : null}
      <ul className="max-h-[32rem] space-y-1 overflow-y-auto text-sm text-slate-700">
        <li>{session.startedAt.toISOString().slice(11, 19)} — session started</li>
        {moments.map((moment) => {
          const time = moment.at.toISOString().slice(11, 19);
          const seconds = Math.max(0, moment.at.getTime() - session.startedAt.getTime()) / 1000;
          return (
            <li key={moment.key} data-source={moment.source} className={moment.quiet ? "text-slate-500" : sourceStyle[moment.source]}>
              {playerHref ? (
                <Link href={`${playerHref}?t=${seconds}`} prefetch={false} className="font-mono text-indigo-700" aria-label={`Play from ${time}`}>
                  {time}
                </Link>
              ) : (
                <span className="font-mono">{time}</span>
              )}{" "}
              <span className="sr-only">({sourceLabel[moment.source]})</span>— {moment.text}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
