"use client";
import type { MomentSource } from "@/lib/data/session-details";
import type { RecordingActivity } from "@/lib/data/recording-activity";
import { playbackClock } from "./playback-controls";

const markStyle: Record<MomentSource, string> = { command: "bg-indigo-500", session: "bg-amber-500", audit: "bg-slate-400", risk: "bg-red-600" };

/**
 * Where things happened, under a player's scrub bar and on its scale: bars for how much the recording stored
 * over time, marks for commands, pages, controls and rule matches. Each bar and mark moves the player there.
 */
export function ActivityStrip({ activity, onSeek }: { activity: RecordingActivity; onSeek: (atMs: number) => void }) {
  const { durationMs, density, marks } = activity;
  const bucketMs = durationMs / density.length;
  return (
    <section aria-label="Activity in the recording">
      <div className="relative h-12 rounded-md border border-slate-200 bg-white">
        <div className="absolute inset-x-0 bottom-0 flex h-9 items-end" data-testid="activity-density">
          {density.map((share, bucket) => (
            <button
              key={bucket}
              type="button"
              onClick={() => onSeek(bucket * bucketMs)}
              className="flex h-full flex-1 items-end"
              // The marks are the keyboard's way in; a hundred bars would be a hundred tab stops.
              tabIndex={-1}
              aria-hidden
              data-share={share.toFixed(2)}
            >
              <span className="block w-full bg-indigo-300" style={{ height: `${Math.round(share * 100)}%` }} />
            </button>
          ))}
        </div>
        {marks.map((mark, index) => (
          <button
            key={`${mark.atMs}-${index}`}
            type="button"
            onClick={() => onSeek(mark.atMs)}
            className={`absolute top-0 h-3 w-1 -translate-x-1/2 rounded-sm ${markStyle[mark.source]}`}
            style={{ left: `${Math.min(100, (mark.atMs / durationMs) * 100)}%` }}
            title={`${playbackClock(mark.atMs)} ${mark.text}`}
            aria-label={`${playbackClock(mark.atMs)}: ${mark.text}`}
            data-source={mark.source}
          />
        ))}
      </div>
      <p className="mt-1 text-xs text-slate-600">Bars: how much the recording holds over time. Marks: commands (indigo), events and pages (amber), rule matches (red). Each plays from its moment.</p>
    </section>
  );
}
