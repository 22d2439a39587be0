// How the pages and the command line write amounts of time and data.

/** A span of time as people read it: `42 s`, `3 min 5 s`, `2 h 10 min`. */
export function spanOfTime(milliseconds: number) {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  return seconds < 60 ? `${seconds} s` : seconds < 3600 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** A byte count in the unit that keeps it short: `512 B`, `12.3 KiB`, `4.0 MiB`. */
export function amountOfData(bytes: number) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** What a user is told of the people from security watching their session. */
export function watchersNotice(count: number) {
  return count === 1 ? "Someone from security is watching this session." : `${count} people from security are watching this session.`;
}
