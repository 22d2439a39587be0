"use client";
// The terminal recording player: the .cast file replayed into xterm.js, with play/pause, speed, skip idle,
// a scrub bar with command markers, keyboard shortcuts and the recording's verification. Nothing a recording
// contains can act on the reviewer's machine: links do nothing, the title is never set, and the clipboard
// is not reachable from the terminal (no clipboard addon).
import "@xterm/xterm/css/xterm.css";
import { Unicode11Addon } from "@xterm/addon-unicode11";
import { Terminal } from "@xterm/xterm";
import { useCallback, useEffect, useRef, useState } from "react";
import { Button } from "@/app/_ui/primitives";
import { parseCast, recordingVerdictSchema, type CastEvent, type RecordingVerdictView } from "@/lib/protocol/recordings";

const speeds = [0.5, 1, 2, 4, 8, 16];
/** With "skip idle", no pause in the replay lasts longer than this. */
const idleCapSeconds = 1;

const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;

interface Loaded {
  width: number;
  height: number;
  events: CastEvent[];
  duration: number;
}

export function Player({ sessionId, startAt }: { sessionId: string; startAt: number }) {
  const container = useRef<HTMLDivElement>(null);
  const terminal = useRef<Terminal | null>(null);
  const recording = useRef<Loaded | null>(null);
  const playhead = useRef({ position: 0, nextIndex: 0 });
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [position, setPosition] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [skipIdle, setSkipIdle] = useState(true);
  const [verdict, setVerdict] = useState<RecordingVerdictView>();
  const [commands, setCommands] = useState<{ atMs: number; text: string }[]>([]);

  /** Rebuilds the screen as it was at `seconds`. */
  const seek = useCallback((seconds: number) => {
    const term = terminal.current;
    const cast = recording.current;
    if (!term || !cast) return;
    const target = Math.max(0, Math.min(seconds, cast.duration));
    term.reset();
    term.resize(cast.width, cast.height);
    let output = "";
    let index = 0;
    for (; index < cast.events.length && cast.events[index]![0] <= target; index++) {
      const [, code, data] = cast.events[index]!;
      if (code === "o") output += data;
      else if (code === "r") {
        term.write(output);
        output = "";
        const [cols, rows] = data.split("x").map(Number);
        if (cols && rows) term.resize(cols, rows);
      }
    }
    term.write(output);
    playhead.current = { position: target, nextIndex: index };
    setPosition(target);
  }, []);

  useEffect(() => {
    const term = new Terminal({
      allowProposedApi: true,
      disableStdin: true,
      cursorBlink: false,
      fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 2000,
      theme: { background: "#0f172a" },
      linkHandler: { activate: () => {}, allowNonHttpProtocols: false },
    });
    term.loadAddon(new Unicode11Addon());
    term.unicode.activeVersion = "11";
    term.open(container.current!);
    terminal.current = term;

    let cancelled = false;
    (async () => {
      const [castResponse, verifyResponse, commandsResponse] = await Promise.all([
        fetch(`/api/recordings/${sessionId}/cast`),
        fetch(`/api/recordings/${sessionId}/verify`),
        fetch(`/api/recordings/${sessionId}/commands`),
      ]);
      if (!castResponse.ok) throw new Error(castResponse.status === 404 ? "This session has no recording" : `The gateway answered ${castResponse.status}`);
      const { header, events } = parseCast(await castResponse.text());
      if (cancelled) return;
      recording.current = { width: header.width, height: header.height, events, duration: events.at(-1)?.[0] ?? 0 };
      const parsedVerdict = recordingVerdictSchema.safeParse(await verifyResponse.json().catch(() => null));
      if (parsedVerdict.success) setVerdict(parsedVerdict.data);
      if (commandsResponse.ok) setCommands(await commandsResponse.json());
      setLoaded(true);
      seek(startAt);
    })().catch((error: Error) => setProblem(error.message));
    return () => {
      cancelled = true;
      term.dispose();
    };
  }, [sessionId, startAt, seek]);

  // Playback: advance the playhead by real time × speed and write the events it passes.
  useEffect(() => {
    if (!playing) return;
    let frame = 0;
    let last = performance.now();
    const tick = (now: number) => {
      const cast = recording.current!;
      const head = playhead.current;
      let next = head.position + ((now - last) / 1000) * speed;
      last = now;
      const upcoming = cast.events[head.nextIndex];
      if (skipIdle && upcoming && upcoming[0] - head.position > idleCapSeconds) next = Math.max(next, upcoming[0] - idleCapSeconds);
      let output = "";
      while (head.nextIndex < cast.events.length && cast.events[head.nextIndex]![0] <= next) {
        const [, code, data] = cast.events[head.nextIndex++]!;
        if (code === "o") output += data;
        else if (code === "r") {
          terminal.current!.write(output);
          output = "";
          const [cols, rows] = data.split("x").map(Number);
          if (cols && rows) terminal.current!.resize(cols, rows);
        }
      }
      if (output) terminal.current!.write(output);
      head.position = Math.min(next, cast.duration);
      setPosition(head.position);
      if (head.position >= cast.duration) return setPlaying(false);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, skipIdle]);

  const duration = recording.current?.duration ?? 0;
  const togglePlay = () => {
    if (!playing && position >= duration) seek(0);
    setPlaying(!playing);
  };
  const shiftSpeed = (step: number) => setSpeed((current) => speeds[Math.max(0, Math.min(speeds.length - 1, speeds.indexOf(current) + step))]!);

  return (
    <div
      className="flex flex-col gap-3 outline-none"
      tabIndex={0}
      aria-label="Recording player: Space plays or pauses, arrows move 5 seconds, plus and minus change the speed"
      onKeyDown={(event) => {
        if (!loaded) return;
        if (event.key === " ") togglePlay();
        else if (event.key === "ArrowRight") seek(position + 5);
        else if (event.key === "ArrowLeft") seek(position - 5);
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
      {verdict ? (
        <p role="status" data-testid="verification" className={`rounded-md px-3 py-2 text-sm ${verdict.intact ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-800"}`}>
          {verdict.intact
            ? `Verified: all ${verdict.chunks} chunks present and unaltered.`
            : `Not verified: chunk ${verdict.brokenAtSeq} of ${verdict.chunks} — ${verdict.problem}. What follows it cannot be trusted.`}
        </p>
      ) : null}
      <div ref={container} data-testid="player-terminal" className="min-h-96 overflow-hidden rounded-md bg-slate-900 p-2" />
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <Button onClick={togglePlay} disabled={!loaded} aria-label={playing ? "Pause" : "Play"}>
          {playing ? "Pause" : "Play"}
        </Button>
        <span data-testid="player-clock" className="font-mono tabular-nums">
          {clock(position)} / {clock(duration)}
        </span>
        <label className="flex items-center gap-1">
          Speed
          <select aria-label="Speed" value={speed} onChange={(event) => setSpeed(Number(event.target.value))} className="rounded-md border border-slate-300 px-1 py-0.5">
            {speeds.map((value) => (
              <option key={value} value={value}>
                {value}×
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-1">
          <input type="checkbox" checked={skipIdle} onChange={(event) => setSkipIdle(event.target.checked)} />
          Skip idle
        </label>
      </div>
      <div className="relative pb-4">
        <input
          type="range"
          aria-label="Position"
          min={0}
          max={duration}
          step={0.1}
          value={position}
          disabled={!loaded}
          onChange={(event) => seek(Number(event.target.value))}
          className="w-full"
        />
        {commands.map((command, index) => (
          <button
            key={`${command.atMs}-${index}`}
            type="button"
            title={command.text}
            aria-label={`Go to command: ${command.text}`}
            onClick={() => seek(command.atMs / 1000)}
            className="absolute bottom-0 h-3 w-1 -translate-x-1/2 rounded bg-amber-500 hover:bg-amber-700"
            style={{ left: `${duration ? Math.min(100, (command.atMs / 1000 / duration) * 100) : 0}%` }}
          />
        ))}
      </div>
      {commands.length > 0 ? (
        <details className="text-sm">
          <summary className="cursor-pointer text-slate-600">Commands ({commands.length})</summary>
          <ol className="mt-2 space-y-1 font-mono text-xs">
            {commands.map((command, index) => (
              <li key={`${command.atMs}-${index}`}>
                <button type="button" className="text-indigo-700 hover:underline" onClick={() => seek(command.atMs / 1000)}>
                  {clock(command.atMs / 1000)}
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
