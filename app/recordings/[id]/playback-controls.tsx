// What the recording players share: how a position reads, and the speed choice.

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
