"use client";
// The desktop recording player (RDP, VNC): Guacamole.SessionRecording over windows of the recording. A window
// starts at the last full frame the engine drew before the moment asked for, without the images painted over
// before that moment, and reaches some seconds past it, so a seek anywhere in a long recording decodes little
// more than one screen. Playing drives the recording's own seek by the clock, which gives speeds other than
// real time; the next window is fetched while the current one still plays. With "skip idle", a stretch where
// the screen stands still plays as at most a second.
import { useCallback, useEffect, useRef, useState } from "react";
import type { SessionRecording } from "guacamole-common-js";
import { createFedTunnel, fitDisplay, loadGuacamole } from "@/app/_components/guacamole";
import { drawingMoments, nextMoment } from "@/lib/player/desktop-activity";
import { desktopWindowSchema, type DesktopWindow } from "@/lib/protocol/recordings";
import type { RecordingActivity } from "@/lib/data/recording-activity";
import { ActivityStrip } from "./activity-strip";
import { PositionControls, ShortcutList } from "./playback-controls";
import { Verification } from "./verification";

const speeds = [1, 2, 4, 8];
/** With "skip idle", no still stretch lasts longer than this. */
const idleCapMs = 1_000;
/** Playing, the next window is fetched when the current one has this much (at 1×) left to play. */
const prefetchLeadMs = 5_000;

async function fetchWindow(sessionId: string, atMs: number): Promise<DesktopWindow> {
  const response = await fetch(`/api/recordings/${sessionId}/desktop?at=${Math.max(0, Math.floor(atMs))}`);
  if (!response.ok) throw new Error(response.status === 404 ? "This session has no recording" : `The gateway answered ${response.status}`);
  return desktopWindowSchema.parse(await response.json());
}

interface LoadedWindow {
  recording: SessionRecording;
  /** Where its frames start, from the session's start. */
  startMs: number;
  /** What it shows: from the moment it was asked for until the next window begins. */
  playableFromMs: number;
  untilMs: number;
  /** False for the recording's last window. */
  hasNext: boolean;
  /** When its frames drew something (ms from the session's start). */
  drawings: number[];
}

export function DesktopPlayer({ sessionId, startAt, activity }: { sessionId: string; startAt: number; activity: RecordingActivity | null }) {
  const screen = useRef<HTMLDivElement>(null);
  const loaded = useRef<LoadedWindow | null>(null);
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

  /** Shows the recording at `atMs`, loading the window around it unless the loaded one covers it. */
  const show = useCallback(
    async (atMs: number) => {
      const seek = ++latestSeek.current;
      let current = loaded.current;
      if (!current || atMs < current.playableFromMs || atMs > current.untilMs) {
        setLoading(true);
        const [guacamole, found] = await Promise.all([loadGuacamole(), windowAt(atMs)]);
        // Fed through a tunnel: guacamole-common-js 1.5.0 from npm never reads a recording given as a Blob.
        const fed = createFedTunnel(guacamole, null);
        const recording = new guacamole.SessionRecording(fed.tunnel);
        const parsed = new Promise<void>((resolve) => (recording.onload = resolve));
        fed.tunnel.connect("");
        fed.receive(new TextEncoder().encode(found.instructions));
        fed.tunnel.disconnect();
        await parsed;
        if (seek !== latestSeek.current) return;
        const container = screen.current!;
        const display = recording.getDisplay();
        container.replaceChildren(display.getElement());
        display.onresize = () => fitDisplay(display, container);
        current = {
          recording,
          startMs: found.startMs,
          // Asked for a moment before the recording's first frame, the window is what there is to show for it.
          playableFromMs: Math.min(found.playableFromMs, atMs),
          untilMs: Math.max(found.untilMs, found.startMs + recording.getDuration()),
          hasNext: found.nextSeq !== null,
          drawings: drawingMoments(found.instructions, found.startMs),
        };
        loaded.current = current;
        // Frames are timed by the engine's clock, chunks by the gateway's: the last frame may end a little later.
        setDurationMs(Math.max(found.durationMs, found.nextSeq === null ? current.untilMs : 0));
        setLoading(false);
      }
      const within = Math.max(0, Math.min(atMs, current.untilMs) - current.startMs);
      // A window without a frame has nothing to seek to (and guacamole's seek would never call back).
      if (current.drawings.length === 0 && current.recording.getDuration() === 0) return;
      await new Promise<void>((resolve) => current.recording.seek(within, resolve));
      // The display draws one frame per animation frame: playing fast waits for it rather than queue frames.
      await new Promise<void>((resolve) => current.recording.getDisplay().flush(resolve));
      fitDisplay(current.recording.getDisplay(), screen.current!);
    },
    [windowAt],
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
    const observer = new ResizeObserver(() => loaded.current && fitDisplay(loaded.current.recording.getDisplay(), container));
    observer.observe(container);
    return () => observer.disconnect();
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
