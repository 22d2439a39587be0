"use client";
// The terminal recording player: xterm.js fed by windows of the recording — a seek fetches the nearest
// keyframe and the few chunks after it, playing on fetches the next chunks ahead of the playhead — so a
// 10-hour recording starts and seeks as fast as a short one. Play/pause, speed, skip idle, a scrub bar with
// the activity strip under it, keyboard shortcuts and the recording's verification. Nothing a recording contains can act
// on the reviewer's machine: links do nothing, the title is never set, and the clipboard is not reachable from
// the terminal (no clipboard addon).
import "@xterm/xterm/css/xterm.css";
import { Unicode11Addon } from "@xterm/addon-unicode11";
import { Terminal } from "@xterm/xterm";
import { useCallback, useEffect, useRef, useState } from "react";
import { inertLinks } from "@/app/_components/terminal-links";
import { Button } from "@/app/_ui/primitives";
import { recordingWindowSchema, replay, type CastEvent, type RecordingWindow } from "@/lib/protocol/recordings";
import type { RecordingActivity } from "@/lib/data/recording-activity";
import { ActivityStrip } from "./activity-strip";
import { playbackClock, ShortcutList, SkipIdleAndKeys, SpeedSelect } from "./playback-controls";
import { Verification } from "./verification";

const speeds = [0.5, 1, 2, 4, 8, 16];
/** With "skip idle", no pause in the replay lasts longer than this. */
const idleCapSeconds = 1;
/** Playing fetches the next window when less than this much is left of the one it has. */
const prefetchSeconds = 10;


async function fetchWindow(sessionId: string, query: string): Promise<RecordingWindow> {
  const response = await fetch(`/api/recordings/${sessionId}/window?${query}`);
  if (!response.ok) throw new Error(response.status === 404 ? "This session has no recording" : `The gateway answered ${response.status}`);
  return recordingWindowSchema.parse(await response.json());
}

/** What the player holds: events not yet played, and where the recording goes on. */
interface Playhead {
  position: number;
  events: CastEvent[];
  nextIndex: number;
  nextSeq: number | null;
  fetching: boolean;
}

export function Player({ sessionId, startAt, activity }: { sessionId: string; startAt: number; activity: RecordingActivity | null }) {
  const container = useRef<HTMLDivElement>(null);
  const terminal = useRef<Terminal | null>(null);
  const playhead = useRef<Playhead>({ position: 0, events: [], nextIndex: 0, nextSeq: null, fetching: false });
  /** Output goes to the terminal in order, resizes included; a seek waits for it and starts over. */
  const writing = useRef<Promise<void>>(Promise.resolve());
  const seekToken = useRef(0);
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [position, setPosition] = useState(0);
  const [duration, setDuration] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [skipIdle, setSkipIdle] = useState(true);
  const [shortcutsShown, setShortcutsShown] = useState(false);
  const [commands, setCommands] = useState<{ atMs: number; text: string }[]>([]);

  const play = useCallback((events: CastEvent[]) => {
    const term = terminal.current;
    if (term && events.length > 0) writing.current = writing.current.then(() => replay(term, events));
  }, []);

  /** Takes the next window of the recording onto the playhead. */
  const fetchMore = useCallback(async () => {
    const head = playhead.current;
    if (head.fetching || head.nextSeq === null) return;
    head.fetching = true;
    const token = seekToken.current;
    try {
      const window = await fetchWindow(sessionId, `seq=${head.nextSeq}`);
      if (token !== seekToken.current) return;
      head.events = [...head.events.slice(head.nextIndex), ...window.events];
      head.nextIndex = 0;
      head.nextSeq = window.nextSeq;
    } finally {
      head.fetching = false;
    }
  }, [sessionId]);

  /** Shows the screen as it was at `seconds`: the nearest keyframe, then the events up to that moment. */
  const seek = useCallback(
    async (seconds: number) => {
      const term = terminal.current;
      if (!term) return;
      const token = ++seekToken.current;
      const target = Math.max(0, seconds);
      const window = await fetchWindow(sessionId, `at=${Math.round(target * 1000)}`);
      if (token !== seekToken.current) return;
      await writing.current;
      term.reset();
      if (window.size) term.resize(window.size.cols, window.size.rows);
      if (window.keyframe) term.write(window.keyframe);
      const head: Playhead = { position: Math.min(target, window.durationMs / 1000), events: window.events, nextIndex: 0, nextSeq: window.nextSeq, fetching: false };
      playhead.current = head;
      // Without a keyframe close enough, the moment may lie past this window: read on until it is reached.
      for (;;) {
        let index = head.nextIndex;
        while (index < head.events.length && head.events[index]![0] <= head.position) index++;
        play(head.events.slice(head.nextIndex, index));
        head.nextIndex = index;
        if (index < head.events.length || head.nextSeq === null) break;
        await fetchMore();
        if (token !== seekToken.current) return;
      }
      setDuration(window.durationMs / 1000);
      setPosition(head.position);
      setLoaded(true);
    },
    [sessionId, play, fetchMore],
  );

  useEffect(() => {
    const term = new Terminal({
      allowProposedApi: true,
      disableStdin: true,
      cursorBlink: false,
      fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 2000,
      theme: { background: "#0f172a" },
      linkHandler: inertLinks,
    });
    term.loadAddon(new Unicode11Addon());
    term.unicode.activeVersion = "11";
    term.open(container.current!);
    terminal.current = term;

    let cancelled = false;
    seek(startAt).catch((error: Error) => !cancelled && setProblem(error.message));
    (async () => {
      const commandsResponse = await fetch(`/api/recordings/${sessionId}/commands`);
      if (commandsResponse.ok && !cancelled) setCommands(await commandsResponse.json());
    })().catch(() => {});
    return () => {
      cancelled = true;
      seekToken.current++;
      term.dispose();
      terminal.current = null;
    };
  }, [sessionId, startAt, seek]);

  // Playback: advance the playhead by real time × speed, write the events it passes, fetch ahead.
  useEffect(() => {
    if (!playing) return;
    let frame = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const head = playhead.current;
      let next = head.position + ((now - last) / 1000) * speed;
      last = now;
      const upcoming = head.events[head.nextIndex];
      if (skipIdle && upcoming && upcoming[0] - head.position > idleCapSeconds) next = Math.max(next, upcoming[0] - idleCapSeconds);
      // The playhead does not run past what has been fetched.
      const buffered = head.nextSeq === null ? duration : (head.events.at(-1)?.[0] ?? head.position);
      next = Math.min(next, buffered, duration);
      let index = head.nextIndex;
      while (index < head.events.length && head.events[index]![0] <= next) index++;
      play(head.events.slice(head.nextIndex, index));
      head.nextIndex = index;
      head.position = Math.max(head.position, next);
      setPosition(head.position);
      if (head.nextSeq !== null && buffered - head.position < prefetchSeconds) void fetchMore().catch((error: Error) => setProblem(error.message));
      if (head.position >= duration && head.nextSeq === null) return setPlaying(false);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, skipIdle, duration, play, fetchMore]);

  const jump = (seconds: number) => void seek(seconds).catch((error: Error) => setProblem(error.message));
  const togglePlay = () => {
    if (!playing && position >= duration) jump(0);
    setPlaying(!playing);
  };
  const shiftSpeed = (step: number) => setSpeed((current) => speeds[Math.max(0, Math.min(speeds.length - 1, speeds.indexOf(current) + step))]!);

  return (
    <div
      className="flex flex-col gap-3 outline-none"
      tabIndex={0}
      aria-label="Recording player: Space plays or pauses, arrows move 5 seconds, plus and minus change the speed, ? lists the keys"
      onKeyDown={(event) => {
        if (!loaded) return;
        if (event.key === "?") setShortcutsShown((shown) => !shown);
        else if (event.key === " ") togglePlay();
        else if (event.key === "ArrowRight") jump(Math.min(duration, position + 5));
        else if (event.key === "ArrowLeft") jump(position - 5);
        else if (event.key === "+") shiftSpeed(1);
        else if (event.key === "-") shiftSpeed(-1);
        else return;
        event.preventDefault();
      }}
    >
      {problem ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {problem}
        </p>
      ) : null}
      <Verification sessionId={sessionId} />
      <div ref={container} data-testid="player-terminal" className="min-h-96 overflow-hidden rounded-md bg-slate-900 p-2" />
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <Button onClick={togglePlay} disabled={!loaded} aria-label={playing ? "Pause" : "Play"}>
          {playing ? "Pause" : "Play"}
        </Button>
        <span data-testid="player-clock" className="font-mono tabular-nums">
          {playbackClock(position * 1000)} / {playbackClock(duration * 1000)}
        </span>
        <SpeedSelect label="Speed" speeds={speeds} value={speed} onChange={setSpeed} />
        <SkipIdleAndKeys skipIdle={skipIdle} onSkipIdle={setSkipIdle} shortcutsShown={shortcutsShown} onShortcuts={() => setShortcutsShown((shown) => !shown)} />
      </div>
      <ShortcutList shown={shortcutsShown} onClose={() => setShortcutsShown(false)} />
      <div>
        <input
          type="range"
          aria-label="Position"
          min={0}
          max={duration}
          step={0.1}
          value={position}
          disabled={!loaded}
          onChange={(event) => jump(Number(event.target.value))}
          className="w-full"
        />
        {activity ? <ActivityStrip activity={activity} onSeek={(atMs) => jump(atMs / 1000)} /> : null}
      </div>
      {commands.length > 0 ? (
        <details className="text-sm">
          <summary className="cursor-pointer text-slate-600">Commands ({commands.length})</summary>
          <ol className="mt-2 space-y-1 font-mono text-xs">
            {commands.map((command, index) => (
              <li key={`${command.atMs}-${index}`}>
                <button type="button" className="text-indigo-700 hover:underline" onClick={() => jump(command.atMs / 1000)}>
                  {playbackClock(command.atMs)}
                </button>{" "}
                {command.text}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </div>
  );
}
