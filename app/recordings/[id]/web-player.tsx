"use client";
// The web recording player: rrweb-player (play/pause, speed, skip idle, a scrub bar with the navigations as
// markers) over windows of the recording. A seek loads the page's last full snapshot before that moment and
// the minute after it, and playing on fetches the next chunks ahead of the playhead, so a long recording
// starts and seeks as fast as a short one. The page is rebuilt without its scripts: nothing in a recording
// runs on the reviewer's machine.
import "rrweb-player/dist/style.css";
import type RrwebPlayer from "rrweb-player";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { navigationTag, pageEventType } from "@/lib/protocol/page-recorder";
import { pageEventsWindowSchema, type PageEventsWindow } from "@/lib/protocol/web-recording";
import type { RecordingActivity } from "@/lib/recording-activity";
import { ActivityStrip } from "./activity-strip";
import { playbackClock } from "./playback-controls";
import { Verification } from "./verification";

/** Playing fetches the next window when less than this much is left of the one it has. */
const prefetchMs = 15_000;

async function fetchWindow(sessionId: string, query: string): Promise<PageEventsWindow> {
  const response = await fetch(`/api/recordings/${sessionId}/page-events?${query}`);
  if (!response.ok) throw new Error(response.status === 404 ? "This session has no recording" : `The gateway answered ${response.status}`);
  return pageEventsWindowSchema.parse(await response.json());
}

type PlayerEvents = ConstructorParameters<typeof RrwebPlayer>[0]["props"]["events"];

export function WebPlayer({ sessionId, startAt, activity }: { sessionId: string; startAt: number; activity: RecordingActivity | null }) {
  const router = useRouter();
  const container = useRef<HTMLDivElement>(null);
  const [problem, setProblem] = useState<string>();
  const [shown, setShown] = useState<{ fromMs: number; durationMs: number } | null>(null);

  useEffect(() => {
    let player: RrwebPlayer | null = null;
    let cancelled = false;
    void (async () => {
      try {
        // Loaded in the browser only: the player needs a DOM from its first line.
        const [{ default: RrwebPlayer }, first] = await Promise.all([import("rrweb-player"), fetchWindow(sessionId, `at=${startAt}`)]);
        if (cancelled || !container.current) return;
        if (first.events.length < 2) return setProblem("This recording holds no page yet");
        const windowStart = first.events[0]!.timestamp;
        let nextSeq = first.nextSeq;
        let loadedUntil = first.events.at(-1)!.timestamp;
        let fetching = false;
        container.current.replaceChildren();
        const width = Math.min(container.current.clientWidth, 1280);
        player = new RrwebPlayer({
          target: container.current,
          props: { events: first.events as PlayerEvents, width, height: Math.round(width * 0.56), autoPlay: false, skipInactive: true, speedOption: [1, 2, 4, 8], tags: { [navigationTag]: "#4f46e5" }, mouseTail: false },
        });
        setShown({ fromMs: windowStart - first.startedAt, durationMs: first.durationMs });
        // The page as drawn at the moment: never before the window's snapshot (a moment between a page's start
        // and its drawing shows it drawn), and with what is stamped at the moment itself, which rrweb leaves out.
        const drawnAt = first.events.find((event) => event.type === pageEventType.fullSnapshot)?.timestamp ?? windowStart;
        player.goto(Math.max(drawnAt, first.startedAt + startAt) - windowStart + 1, false);
        // Playing on: the next chunks are added before the playhead reaches the end of what is loaded.
        player.addEventListener("ui-update-current-time", (update) => {
          const at = windowStart + ((update as { payload: number }).payload ?? 0);
          if (nextSeq === null || fetching || loadedUntil - at > prefetchMs) return;
          fetching = true;
          fetchWindow(sessionId, `seq=${nextSeq}`).then(
            (more) => {
              for (const event of more.events) player?.addEvent(event as PlayerEvents[number]);
              nextSeq = more.nextSeq;
              loadedUntil = more.events.at(-1)?.timestamp ?? loadedUntil;
              fetching = false;
            },
            (error: Error) => setProblem(error.message),
          );
        });
      } catch (error) {
        setProblem((error as Error).message);
      }
    })();
    return () => {
      cancelled = true;
      // A Svelte component: `$destroy` is there at run time, though its typings (from svelte) are not installed.
      (player as unknown as { $destroy(): void } | null)?.$destroy();
    };
  }, [sessionId, startAt]);

  return (
    <div className="flex flex-col gap-2">
      <Verification sessionId={sessionId} />
      {shown ? (
        <p data-testid="web-player-window" className="text-sm text-slate-600">
          From {playbackClock(shown.fromMs)} of {playbackClock(shown.durationMs)}: the page as it was at its last full snapshot before the moment asked for.
        </p>
      ) : null}
      {problem ? <p className="text-sm text-red-700">{problem}</p> : null}
      <div ref={container} data-testid="web-player" className="min-h-[24rem] rounded-md border border-slate-200 bg-white" />
      {/* rrweb-player draws its own scrub bar; a moment here loads the window from the page's snapshot before it. */}
      {activity ? <ActivityStrip activity={activity} onSeek={(atMs) => router.push(`/recordings/${sessionId}?t=${atMs / 1000}`)} /> : null}
    </div>
  );
}
