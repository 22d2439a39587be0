// What the commands print: a table for people, JSON for programs; notes and progress go to stderr so that stdout
// stays the data.

export type OutputFormat = "table" | "json";

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "table" || value === "json") return value ?? "table";
  throw new Error(`--output is table or json, not ${value}`);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

export const moment = (iso: string | null | undefined) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : "—");

export function duration(fromIso: string, toIso: string | null): string {
  const seconds = Math.max(0, Math.round(((toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso)) / 1000));
  return seconds < 60 ? `${seconds}s` : seconds < 3600 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s` : `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

/** A progress bar on a terminal (redrawn in place, at most 10 times a second); nothing when stderr is a file or pipe. */
export class ProgressBar {
  private lastDrawn = 0;
  private readonly shown = Boolean(process.stderr.isTTY);
  constructor(private readonly label: string) {}

  update(fraction: number, detail: string) {
    if (!this.shown || Date.now() - this.lastDrawn < 100) return;
    this.lastDrawn = Date.now();
    this.draw(fraction, detail);
  }

  done(detail: string) {
    if (this.shown) this.draw(1, detail);
    if (this.shown) process.stderr.write("\n");
  }

  private draw(fraction: number, detail: string) {
    const share = Math.min(1, Math.max(0, fraction));
    const width = 30;
    const filled = Math.round(share * width);
    process.stderr.write(`\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${detail}\x1b[K`);
  }
}
