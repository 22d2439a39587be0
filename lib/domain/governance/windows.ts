// Weekly access windows, read in the policy's time zone: is a moment inside one, and when does that stretch end.
import type { WeeklyWindow } from "../../protocol/governance";

const dayNames = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const isoDay: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const toMinutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** The weekday and the minute of the day (with the seconds past it) at `at`, on the wall clock of `timeZone`. */
function wallClock(at: Date, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return { day: isoDay[parts.weekday!]!, minute: Number(parts.hour) * 60 + Number(parts.minute), secondsIntoMinute: Number(parts.second) + (at.getTime() % 1000) / 1000 };
}

function openWindowAt(windows: WeeklyWindow[], at: Date, timeZone: string) {
  const clock = wallClock(at, timeZone);
  const window = windows.find((candidate) => candidate.days.includes(clock.day) && toMinutes(candidate.from) <= clock.minute && clock.minute < toMinutes(candidate.to));
  return window ? { window, clock } : null;
}

/**
 * When the stretch of open windows that holds `at` ends, following windows that continue it (Mon 00:00–24:00 then
 * Tue 00:00–24:00 is one stretch); null when it never ends (or `at` is in none: ask isInWindow first).
 */
export function windowEnd(windows: WeeklyWindow[], at: Date, timeZone: string): Date | null {
  let end: Date | null = null;
  let moment = at;
  // A week of back-to-back windows is open at all times: eight steps are enough to see that.
  for (let step = 0; step < 8; step++) {
    const open = openWindowAt(windows, moment, timeZone);
    if (!open) return end;
    end = new Date(moment.getTime() + ((toMinutes(open.window.to) - open.clock.minute) * 60 - open.clock.secondsIntoMinute) * 1000);
    moment = end;
  }
  return null;
}

export function isInWindow(windows: WeeklyWindow[], at: Date, timeZone: string): boolean {
  return windows.length === 0 || openWindowAt(windows, at, timeZone) !== null;
}

/** "Mon–Fri 08:00–18:00, Sat 09:00–12:00 (Europe/Berlin)". */
export function describeWindows(windows: WeeklyWindow[], timeZone: string): string {
  const days = (list: number[]) => {
    const sorted = [...new Set(list)].sort();
    const contiguous = sorted.every((day, index) => index === 0 || day === sorted[index - 1]! + 1);
    return contiguous && sorted.length > 2 ? `${dayNames[sorted[0]!]}–${dayNames[sorted.at(-1)!]}` : sorted.map((day) => dayNames[day]).join(", ");
  };
  return `${windows.map((window) => `${days(window.days)} ${window.from}–${window.to}`).join("; ")} (${timeZone})`;
}

/** The form's text for windows, one per line: "Mon-Fri 08:00-18:00" or "Sat,Sun 09:00-12:00". */
export function parseWindowLines(text: string): WeeklyWindow[] | { problem: string } {
  const windows: WeeklyWindow[] = [];
  for (const line of text.split("\n").map((entry) => entry.trim()).filter(Boolean)) {
    const match = /^([A-Za-z,\s-]+)\s+(\d\d:\d\d)\s*[-–]\s*(\d\d:\d\d)$/.exec(line);
    const days = new Set<number>();
    for (const part of (match?.[1] ?? "").split(",").map((entry) => entry.trim()).filter(Boolean)) {
      const [first, last] = part.split(/\s*[-–]\s*/).map((day) => isoDay[day.slice(0, 1).toUpperCase() + day.slice(1, 3).toLowerCase()]);
      if (!first || (part.includes("-") && !last)) return { problem: `"${line}": days are Mon, Tue, … Sun, or ranges such as Mon-Fri` };
      for (let day = first; day <= (last ?? first); day++) days.add(day);
    }
    if (!match || days.size === 0) return { problem: `"${line}" should look like Mon-Fri 08:00-18:00` };
    windows.push({ days: [...days], from: match[2]!, to: match[3]! });
  }
  return windows;
}

export const windowLines = (windows: WeeklyWindow[]) => describeWindows(windows, "").replace(/ \(\)$/, "").split("; ").join("\n");
