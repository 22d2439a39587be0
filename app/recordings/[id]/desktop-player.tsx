"use client";
// The desktop recording player (RDP, VNC), over windows of the recording. A window starts at the last full frame
// the engine drew before the moment asked for, without the images painted over before that moment, and reaches
// some seconds past it, so a seek anywhere in a long recording decodes little more than one screen. Its frames
// are drawn forward from there (./frame-replay.ts); playing moves the position by the clock, which gives speeds
// other than real time, and the next window is fetched while the current one still plays. With "skip idle", a
// stretch where the screen stands still plays as at most a second.
import { useCallback, useEffect, useRef, useState } from "react";
import { fitDisplay, loadGuacamole, type Guacamole } from "@/app/_components/guacamole";
import { desktopFrames, drawingMoments, nextMoment, type DesktopFrame } from "@/lib/player/desktop-activity";
import { desktopWindowSchema, type DesktopWindow } from "@/lib/protocol/recordings";
import { GuacamoleSyntaxError } from "@/lib/protocol/guacamole";
import type { RecordingActivity } from "@/lib/data/recording-activity";
import { ActivityStrip } from "./activity-strip";
import { FrameReplay } from "./frame-replay";
import { PositionControls, ShortcutList } from "./playback-controls";
import { Verification } from "./verification";

const speeds = [1, 2, 4, 8];
/** With "skip idle", no still stretch lasts longer than this. */
const idleCapMs = 1_000;
/** Playing, the next window is fetched when the current one has this much (at 1×) left to play. */
const prefetchLeadMs = 5_000;

/** A window's frames; a damaged stretch is said so. */
function framesOf(window: DesktopWindow): DesktopFrame[] {
  try {
    return desktopFrames(window.instructions, window.startMs);
  } catch (error) {
    if (error instanceof GuacamoleSyntaxError) throw new Error(`This part of the recording cannot be replayed (${error.message})`);
    throw error;
  }
}

async function fetchWindow(sessionId: string, atMs: number): Promise<DesktopWindow> {
  const response = await fetch(`/api/recordings/${sessionId}/desktop?at=${Math.max(0, Math.floor(atMs))}`);
  if (!response.ok) throw new Error(response.status === 404 ? "This session has no recording" : `The gateway answered ${response.status}`);
  return desktopWindowSchema.parse(await response.json());
}

interface LoadedWindow {
  /** What it shows: from the moment it was asked for until the next window begins. */
  playableFromMs: number;
  untilMs: number;
  /** Where the recording ends by the gateway's clock, for its last window (Infinity for the others). */
  endMs: number;
  /** False for the recording's last window. */
  hasNext: boolean;
  /** When its frames drew something (ms from the session's start). */
  drawings: number[];
}

export function DesktopPlayer({ sessionId, startAt, activity }: { sessionId: string; startAt: number; activity: RecordingActivity | null }) {
  const screen = useRef<HTMLDivElement>(null);
  const loaded = useRef<LoadedWindow | null>(null);
  const replay = useRef<FrameReplay | null>(null);
  /** The window fetched ahead while playing, from the moment it starts. */
  const upcoming = useRef<{ atMs: number; window: Promise<DesktopWindow | null> } | null>(null);
  /** Only the latest seek may replace the window: a slider dragged asks for many, and their windows come in any order. */
  const latestSeek = useRef(0);
  const position = useRef(startAt);
  const [shownPosition, setShownPosition] = useState(startAt);
  const [durationMs, setDurationMs] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [skipIdle, setSkipIdle] = useState(true);
  const [shortcutsShown, setShortcutsShown] = useState(false);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<string>();

  /** The window for `atMs`: the one fetched ahead if it covers that moment, else a fresh one. */
  const windowAt = useCallback(
    async (atMs: number) => {
      const ahead = upcoming.current;
      upcoming.current = null;
      const found = ahead && ahead.atMs <= atMs ? await ahead.window : null;
      return found && atMs <= found.untilMs ? found : fetchWindow(sessionId, atMs);
    },
    [sessionId],
  );

  /** The replay, made and put on the page at the first window. */
  const replayFor = useCallback((guacamole: Guacamole) => {
    if (replay.current) return replay.current;
    const made = new FrameReplay(guacamole);
    const container = screen.current!;
    container.replaceChildren(made.display.getElement());
    made.display.onresize = () => fitDisplay(made.display, container);
    return (replay.current = made);
  }, []);

  /** Shows the recording at `atMs`, loading the window around it unless the loaded one covers it. */
  const show = useCallback(
    async (atMs: number) => {
      const seek = ++latestSeek.current;
      let current = loaded.current;
      if (!current || atMs < current.playableFromMs || atMs > current.untilMs) {
        setLoading(true);
        const [guacamole, found] = await Promise.all([loadGuacamole(), windowAt(atMs)]);
        if (seek !== latestSeek.current) return;
        const frames = framesOf(found);
        const lastFrameMs = frames.at(-1)?.atMs ?? found.startMs;
        replayFor(guacamole).load(frames);
        current = {
          // Asked for a moment before the recording's first frame, the window is what there is to show for it.
          playableFromMs: Math.min(found.playableFromMs, atMs),
          untilMs: Math.max(found.untilMs, lastFrameMs),
          endMs: found.nextSeq === null ? found.durationMs : Infinity,
          hasNext: found.nextSeq !== null,
          drawings: drawingMoments(frames),
        };
        loaded.current = current;
        // Frames are timed by the engine's clock, chunks by the gateway's: the last frame may end a little later.
        const { untilMs } = current;
        setDurationMs((known) => Math.max(known, found.durationMs, found.nextSeq === null ? untilMs : 0));
        setLoading(false);
      }
      // The end, by either clock, shows the last frame. The display draws on the next animation frame: playing
      // fast waits for it rather than queue frames.
      await replay.current!.show(atMs >= current.endMs ? current.untilMs : Math.min(atMs, current.untilMs));
      fitDisplay(replay.current!.display, screen.current!);
    },
    [windowAt, replayFor],
  );

  useEffect(() => {
    loaded.current = null;
    upcoming.current = null;
    position.current = startAt;
    show(startAt).catch((error: Error) => setProblem(error.message));
  }, [show, startAt]);

  useEffect(() => {
    if (!playing) return;
    let frame = 0;
    let last = performance.now();
    let busy = false;
    const step = (now: number) => {
      frame = requestAnimationFrame(step);
      // Time spent drawing counts as played: on a slow machine a frame takes longer, and playback still keeps time.
      if (busy) return;
      // A frame's timestamp may precede the moment playing started.
      const elapsed = Math.max(0, now - last);
      last = now;
      const current = loaded.current;
      let next = position.current + elapsed * speed;
      if (skipIdle && current) {
        // The next change: a frame that draws, or (none left in this window) the start of the next window.
        const change = nextMoment(current.drawings, position.current) ?? (current.hasNext ? current.untilMs : durationMs);
        if (change - next > idleCapMs) next = change - idleCapMs;
      }
      position.current = Math.min(next, durationMs);
      setShownPosition(position.current);
      if (current?.hasNext && !upcoming.current && position.current >= current.untilMs - prefetchLeadMs * speed) {
        upcoming.current = { atMs: current.untilMs, window: fetchWindow(sessionId, current.untilMs).catch(() => null) };
      }
      const atEnd = position.current >= durationMs;
      busy = true;
      show(position.current).then(
        () => {
          busy = false;
          if (atEnd) setPlaying(false);
        },
        (error: Error) => {
          setProblem(error.message);
          setPlaying(false);
        },
      );
    };
    frame = requestAnimationFrame(step);
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, skipIdle, durationMs, show, sessionId]);

  useEffect(() => {
    const container = screen.current!;
    const observer = new ResizeObserver(() => replay.current && fitDisplay(replay.current.display, container));
    observer.observe(container);
    return () => {
      observer.disconnect();
      replay.current?.dispose();
      replay.current = null;
    };
  }, []);

  const seek = (atMs: number) => {
    position.current = atMs;
    setShownPosition(atMs);
    show(atMs).catch((error: Error) => setProblem(error.message));
  };

  const shiftSpeed = (step: number) => setSpeed((current) => speeds[Math.max(0, Math.min(speeds.length - 1, speeds.indexOf(current) + step))]!);

  return (
    <div
      className="flex flex-col gap-2 outline-none"
      tabIndex={0}
      aria-label="Desktop recording player: Space plays or pauses, arrows move 5 seconds, plus and minus change the speed, ? lists the keys"
      onKeyDown={(event) => {
        if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.target instanceof HTMLButtonElement) return;
        if (event.key === "?") setShortcutsShown((shown) => !shown);
        else if (event.key === " ") setPlaying((on) => !on);
        else if (event.key === "ArrowRight") seek(Math.min(durationMs, position.current + 5_000));
        else if (event.key === "ArrowLeft") seek(Math.max(0, position.current - 5_000));
        else if (event.key === "+") shiftSpeed(1);
        else if (event.key === "-") shiftSpeed(-1);
        else return;
        event.preventDefault();
      }}
    >
      <Verification sessionId={sessionId} />
      <PositionControls
        playing={playing}
        onPlaying={() => setPlaying((on) => !on)}
        loading={loading}
        speeds={speeds}
        speed={speed}
        onSpeed={setSpeed}
        positionMs={shownPosition}
        durationMs={durationMs}
        onSeek={seek}
        positionTestId="desktop-player-position"
        skipIdle={skipIdle}
        onSkipIdle={setSkipIdle}
        shortcutsShown={shortcutsShown}
        onShortcuts={() => setShortcutsShown((shown) => !shown)}
      />
      {activity ? <ActivityStrip activity={activity} onSeek={seek} /> : null}
      <ShortcutList shown={shortcutsShown} onClose={() => setShortcutsShown(false)} />
      {problem ? <p className="text-sm text-red-700">{problem}</p> : null}
      <div ref={screen} data-testid="desktop-player" className="h-[65vh] overflow-hidden rounded-md bg-slate-900" />
    </div>
  );
}
