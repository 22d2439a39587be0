// What the recording players share: how a position reads, the speed choice, the keyboard shortcuts, and the
// controls bar of the players that seek by milliseconds.
import { Button } from "@/app/_ui/primitives";

/** A position as minutes:seconds. */
export const playbackClock = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")}`;

export function SpeedSelect({ label, speeds, value, onChange }: { label: string; speeds: readonly number[]; value: number; onChange: (speed: number) => void }) {
  return (
    <label className="flex items-center gap-1">
      Speed
      <select aria-label={label} className="rounded-md border border-slate-300 px-1 py-0.5" value={value} onChange={(event) => onChange(Number(event.target.value))}>
        {speeds.map((speed) => (
          <option key={speed} value={speed}>
            {speed}×
          </option>
        ))}
      </select>
    </label>
  );
}

/** The keys every player takes while it has focus; `?` shows this list. */
export const playerShortcuts = [
  ["Space", "play or pause"],
  ["← →", "back or on 5 seconds"],
  ["+ −", "faster or slower"],
  ["?", "show or hide these keys"],
] as const;

export function ShortcutList({ shown, onClose }: { shown: boolean; onClose: () => void }) {
  if (!shown) return null;
  return (
    <div role="dialog" aria-label="Keyboard shortcuts" className="rounded-md border border-slate-200 bg-white p-3 text-sm shadow-sm">
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
        {playerShortcuts.map(([keys, does]) => (
          <div key={keys} className="contents">
            <dt className="font-mono font-semibold">{keys}</dt>
            <dd>{does}</dd>
          </div>
        ))}
      </dl>
      <button type="button" className="mt-2 text-xs font-medium text-indigo-700" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

/** "Skip idle" and the button that shows the keys, beside each player's controls. */
export function SkipIdleAndKeys({ skipIdle, onSkipIdle, shortcutsShown, onShortcuts }: { skipIdle: boolean; onSkipIdle: (on: boolean) => void; shortcutsShown: boolean; onShortcuts: () => void }) {
  return (
    <>
      <label className="flex items-center gap-1">
        <input type="checkbox" checked={skipIdle} onChange={(event) => onSkipIdle(event.target.checked)} />
        Skip idle
      </label>
      <button type="button" className="text-xs font-medium text-indigo-700" aria-expanded={shortcutsShown} onClick={onShortcuts}>
        Keyboard shortcuts (?)
      </button>
    </>
  );
}

const sliderStepMs = 100;

/**
 * The bar of the players that seek by milliseconds (desktop and web): play, speed, one slider over the whole
 * recording with the position beside it, skip idle and the keys.
 */
export function PositionControls(props: {
  playing: boolean;
  onPlaying: () => void;
  loading: boolean;
  speeds: readonly number[];
  speed: number;
  onSpeed: (speed: number) => void;
  positionMs: number;
  durationMs: number;
  onSeek: (atMs: number) => void;
  positionTestId: string;
  skipIdle: boolean;
  onSkipIdle: (on: boolean) => void;
  shortcutsShown: boolean;
  onShortcuts: () => void;
}) {
  return (
    <div className="flex flex-wrap items-center gap-3 text-sm">
      <Button onClick={props.onPlaying} disabled={props.loading && !props.playing}>
        {props.playing ? "Pause" : "Play"}
      </Button>
      <SpeedSelect label="Playback speed" speeds={props.speeds} value={props.speed} onChange={props.onSpeed} />
      <input
        type="range"
        aria-label="Position in the recording"
        className="min-w-48 flex-1"
        min={0}
        // The slider stops at whole steps from 0: its last is at or past the end, so the end can be reached.
        max={Math.ceil(Math.max(props.durationMs, 1) / sliderStepMs) * sliderStepMs}
        step={sliderStepMs}
        value={props.positionMs}
        onChange={(event) => props.onSeek(Math.min(Number(event.target.value), props.durationMs))}
      />
      <span data-testid={props.positionTestId} className="font-mono text-xs text-slate-600">
        {playbackClock(props.positionMs)} / {playbackClock(props.durationMs)}
      </span>
      <SkipIdleAndKeys skipIdle={props.skipIdle} onSkipIdle={props.onSkipIdle} shortcutsShown={props.shortcutsShown} onShortcuts={props.onShortcuts} />
      {props.loading ? <span className="text-xs text-slate-500">Loading…</span> : null}
    </div>
  );
}
