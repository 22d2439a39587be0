"use client";
// The web recording player: rrweb's replayer (through rrweb-player, which scales the page to fit) over windows
// of the recording, under the same controls as the other players: play, speed, skip idle, and one position
// slider over the whole recording. A window starts at the page's last full snapshot before the moment asked
// for and runs 20 s on; a seek inside it only moves the replayer, a seek elsewhere loads the window there,
// and playing on fetches the next chunks ahead of the playhead, so a long recording seeks as fast as a short
// one. The page is rebuilt without its scripts: nothing in a recording runs on the reviewer's machine.
import "rrweb-player/dist/style.css";
import type RrwebPlayer from "rrweb-player";
import { useCallback, useEffect, useRef, useState } from "react";
import { pageDrawnAt } from "@/lib/player/page-playback";
import { navigationTag, type PageEvent } from "@/lib/protocol/page-recorder";
import { pageEventsWindowSchema, type PageEventsWindow } from "@/lib/protocol/web-recording";
import type { RecordingActivity } from "@/lib/data/recording-activity";
import { ActivityStrip } from "./activity-strip";
import { PositionControls, ShortcutList } from "./playback-controls";
import { Verification } from "./verification";

const speeds = [1, 2, 4, 8];
/** Playing fetches the next chunks when less than this much is left of what is loaded. */
const prefetchMs = 15_000;

async function fetchWindow(sessionId: string, query: string): Promise<PageEventsWindow> {
  const response = await fetch(`/api/recordings/${sessionId}/page-events?${query}`);
  if (!response.ok) throw new Error(response.status === 404 ? "This session has no recording" : `The gateway answered ${response.status}`);
  return pageEventsWindowSchema.parse(await response.json());
}

type PlayerEvents = ConstructorParameters<typeof RrwebPlayer>[0]["props"]["events"];

/** A window in the replayer; its times are ms from the session's start. */
interface LoadedWindow {
  player: RrwebPlayer;
  /** The element the player draws into, one per window. */
  holder: HTMLDivElement;
  /** Its events as loaded, and the session's start on their clock. */
  events: PageEvent[];
  sessionStartedAt: number;
  /** The replayer counts from the window's first event. */
  startMs: number;
  /** The moments it shows: from the one it was loaded for (or its first event, if earlier) to its last event. */
  fromMs: number;
  untilMs: number;
  /** The chunk after it, or null at the end of the recording. */
  nextSeq: number | null;
  fetching: boolean;
}

export function WebPlayer({ sessionId, startAt, activity }: { sessionId: string; startAt: number; activity: RecordingActivity | null }) {
  const container = useRef<HTMLDivElement>(null);
  const loaded = useRef<LoadedWindow | null>(null);
  /** Only the latest seek may replace the window: a slider dragged asks for many. */
  const latestSeek = useRef(0);
  const styleCache = useRef<StyleCache | null>(null);
  const position = useRef(startAt);
  const settings = useRef({ speed: 1, skipIdle: true });
  const [shownPosition, setShownPosition] = useState(startAt);
  const [durationMs, setDurationMs] = useState(0);
  const [playing, setPlaying] = useState(false);
  const playingNow = useRef(false);
  const [speed, setSpeed] = useState(1);
  const [skipIdle, setSkipIdle] = useState(true);
  const [shortcutsShown, setShortcutsShown] = useState(false);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<string>();

  const moved = useCallback((atMs: number) => {
    position.current = atMs;
    setShownPosition(atMs);
  }, []);

  /** Adds the chunks after the loaded window, before the playhead reaches their start. */
  const fetchAhead = useCallback(
    (current: LoadedWindow) => {
      if (current.nextSeq === null || current.fetching || current.untilMs - position.current > prefetchMs * settings.current.speed) return;
      current.fetching = true;
      fetchWindow(sessionId, `seq=${current.nextSeq}`).then(
        (more) => {
          for (const event of more.events) current.player.addEvent(event as PlayerEvents[number]);
          current.events.push(...more.events);
          current.nextSeq = more.nextSeq;
          current.untilMs = Math.max(current.untilMs, (more.events.at(-1)?.timestamp ?? 0) - more.startedAt);
          current.fetching = false;
        },
        (error: Error) => setProblem(error.message),
      );
    },
    [sessionId],
  );

  /** Shows the recording at `atMs` (playing on if `play`), loading the window around it unless one covers it. */
  const show = useCallback(
    async (atMs: number, play: boolean) => {
      const seek = ++latestSeek.current;
      let current = loaded.current;
      if (!current || atMs < current.fromMs || atMs > current.untilMs) {
        setLoading(true);
        // Loaded in the browser only: the player needs a DOM from its first line.
        const [{ default: Player }, found] = await Promise.all([import("rrweb-player"), fetchWindow(sessionId, `at=${Math.max(0, Math.floor(atMs))}`)]);
        if (seek !== latestSeek.current || !container.current) return;
        setDurationMs(found.durationMs);
        setLoading(false);
        if (found.events.length < 2) return setProblem("This recording holds no page at this moment");
        setProblem(undefined);
        const startMs = found.events[0]!.timestamp - found.startedAt;
        // The window replaced is hidden now and taken down once the new one is drawn: removing a page's
        // document costs as much as drawing one, and the reviewer is waiting for the new one.
        const previous = loaded.current;
        if (previous) {
          previous.holder.hidden = true;
          window.setTimeout(() => destroy(previous), 200);
        }
        const holder = document.createElement("div");
        container.current.prepend(holder);
        const width = Math.min(container.current.clientWidth, 1280);
        const player = new Player({
          target: holder,
          props: {
            events: found.events as PlayerEvents,
            width,
            height: Math.round(width * 0.56),
            autoPlay: false,
            showController: false,
            skipInactive: settings.current.skipIdle,
            speed: settings.current.speed,
            tags: { [navigationTag]: "#4f46e5" },
            mouseTail: false,
          },
        });
        shareStyleCache(player, styleCache);
        const opened: LoadedWindow = {
          player,
          holder,
          events: found.events,
          sessionStartedAt: found.startedAt,
          startMs,
          fromMs: Math.min(startMs, atMs),
          untilMs: found.events.at(-1)!.timestamp - found.startedAt,
          nextSeq: found.nextSeq,
          fetching: false,
        };
        player.addEventListener("ui-update-current-time", (update) => {
          if (loaded.current !== opened) return;
          moved(opened.startMs + ((update as { payload?: number }).payload ?? 0));
          // Only while playing: a paused reviewer's next seek would wait behind chunks nobody plays.
          if (playingNow.current) fetchAhead(opened);
        });
        // The end of what is loaded: on into the next window if the recording goes on. (rrweb says so after a
        // seek to the end too, where nothing plays.)
        player.addEventListener("finish", () => {
          if (loaded.current !== opened || !playingNow.current) return;
          if (opened.nextSeq === null) setPlaying(false);
          else void show(opened.untilMs + 1, true).catch((error: Error) => setProblem(error.message));
        });
        loaded.current = current = opened;
      }
      // The page as drawn at the moment, with what is stamped at the moment itself, which rrweb leaves out.
      const at = pageDrawnAt(current.events, current.sessionStartedAt + atMs) - current.sessionStartedAt;
      current.player.goto(at - current.startMs + 1, play);
      moved(at);
    },
    [sessionId, moved, fetchAhead],
  );

  useEffect(() => {
    playingNow.current = playing;
  }, [playing]);

  useEffect(() => {
    show(startAt, false).catch((error: Error) => setProblem(error.message));
  }, [show, startAt]);

  useEffect(
    () => () => {
      destroy(loaded.current);
      loaded.current = null;
    },
    [],
  );

  const seek = (atMs: number) => {
    const at = Math.max(0, Math.min(atMs, durationMs || atMs));
    moved(at);
    show(at, playing).catch((error: Error) => setProblem(error.message));
  };

  const togglePlaying = () => {
    const current = loaded.current;
    if (!current) return;
    if (playing) current.player.pause();
    else if (position.current >= current.untilMs && current.nextSeq === null) current.player.goto(0, true);
    else current.player.play();
    setPlaying(!playing);
  };

  const changeSpeed = (next: number) => {
    settings.current.speed = next;
    setSpeed(next);
    loaded.current?.player.setSpeed(next);
  };

  const changeSkipIdle = (on: boolean) => {
    settings.current.skipIdle = on;
    setSkipIdle(on);
    if (loaded.current && loaded.current.player.getReplayer().config.skipInactive !== on) loaded.current.player.toggleSkipInactive();
  };

  const shiftSpeed = (step: number) => changeSpeed(speeds[Math.max(0, Math.min(speeds.length - 1, speeds.indexOf(speed) + step))]!);

  return (
    <div
      className="flex flex-col gap-2 outline-none"
      tabIndex={0}
      aria-label="Web recording player: Space plays or pauses, arrows move 5 seconds, plus and minus change the speed, ? lists the keys"
      onKeyDown={(event) => {
        if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.target instanceof HTMLButtonElement) return;
        if (event.key === "?") setShortcutsShown((shown) => !shown);
        else if (event.key === " ") togglePlaying();
        else if (event.key === "ArrowRight") seek(position.current + 5_000);
        else if (event.key === "ArrowLeft") seek(position.current - 5_000);
        else if (event.key === "+") shiftSpeed(1);
        else if (event.key === "-") shiftSpeed(-1);
        else return;
        event.preventDefault();
      }}
    >
      <Verification sessionId={sessionId} />
      <PositionControls
        playing={playing}
        onPlaying={togglePlaying}
        loading={loading}
        speeds={speeds}
        speed={speed}
        onSpeed={changeSpeed}
        positionMs={shownPosition}
        durationMs={durationMs}
        onSeek={seek}
        positionTestId="web-player-position"
        skipIdle={skipIdle}
        onSkipIdle={changeSkipIdle}
        shortcutsShown={shortcutsShown}
        onShortcuts={() => setShortcutsShown((shown) => !shown)}
      />
      {activity ? <ActivityStrip activity={activity} onSeek={seek} /> : null}
      <ShortcutList shown={shortcutsShown} onClose={() => setShortcutsShown(false)} />
      {problem ? <p className="text-sm text-red-700">{problem}</p> : null}
      <div ref={container} data-testid="web-player" className="min-h-[24rem] rounded-md border border-slate-200 bg-white" />
    </div>
  );
}

/** A Svelte component: `$destroy` is there at run time, though its typings (from svelte) are not installed. */
function destroy(opened: LoadedWindow | null) {
  (opened?.player as unknown as { $destroy(): void } | undefined)?.$destroy();
  opened?.holder.remove();
}

/** rrweb's replayer keeps each stylesheet it has rewritten for replay (hover rules) in a cache of its own. */
interface StyleCache {
  stylesWithHoverClass: Map<string, string>;
}
/** Stylesheets past this many, the shared cache starts over (pages whose styles change as they run). */
const styleCacheMax = 500;

/**
 * Gives the player's replayer the cache of the windows before it: a page's stylesheets (hundreds of KB for an app
 * like an editor) are then rewritten once per visit to the player, not at every seek into another window.
 */
function shareStyleCache(player: RrwebPlayer, shared: { current: StyleCache | null }) {
  const replayer = player.getReplayer() as unknown as { cache: StyleCache };
  if (shared.current && shared.current.stylesWithHoverClass.size < styleCacheMax) replayer.cache = shared.current;
  else shared.current = replayer.cache;
}
