// The one logger: levels, one JSON object per line in production (for a log shipper), short text lines for a
// person at a terminal. A session's lines carry its id (`log.child({ sessionId })`). Writes are synchronous: the
// lines that explain a crash must be out before the process exits.
import { writeSync } from "node:fs";
import pino, { type Logger } from "pino";
import { processGlobal } from "./process-global";

export type LogFormat = "json" | "text";
export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];

const levelNames: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/** `12:03:04.567 WARN  the message key=value …`, with an error's stack on the lines below. */
function textLine(json: string): string {
  const { level, time, msg, err, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(json) as { level: number; time: string; msg?: string; err?: { stack?: string; message?: string } } & Record<string, unknown>;
  const extra = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  const stack = err ? `\n${err.stack ?? err.message}` : "";
  return `${String(time).slice(11, 23)} ${(levelNames[level] ?? String(level)).padEnd(5)} ${msg ?? ""}${extra ? ` ${extra}` : ""}${stack}\n`;
}

function createLogger(format: LogFormat, level: LogLevel, fd: number, node?: string): Logger {
  const destination = format === "json" ? { write: (line: string) => void writeSync(fd, line) } : { write: (line: string) => void writeSync(fd, textLine(line)) };
  return pino({ level, base: node && format === "json" ? { node } : undefined, timestamp: pino.stdTimeFunctions.isoTime, serializers: { err: pino.stdSerializers.err } }, destination);
}

const current = processGlobal<Logger>("log", "the logger is not set up");

function logger(): Logger {
  try {
    return current.get();
  } catch {
    // Before the configuration is read (a configuration error, say) and in tools that never read it: text at
    // info, on standard error.
    const fallback = createLogger("text", "info", 2);
    current.install(fallback);
    return fallback;
  }
}

/** Called once at start, with the configuration's format and level. */
export function configureLog(format: LogFormat, level: LogLevel, node: string) {
  current.install(createLogger(format, level, 1, node));
}

/** The process's logger, whichever copy of this module asks (see process-global.ts). */
export const log = {
  debug: (...args: Parameters<Logger["debug"]>) => logger().debug(...args),
  info: (...args: Parameters<Logger["info"]>) => logger().info(...args),
  warn: (...args: Parameters<Logger["warn"]>) => logger().warn(...args),
  error: (...args: Parameters<Logger["error"]>) => logger().error(...args),
  fatal: (...args: Parameters<Logger["fatal"]>) => logger().fatal(...args),
  child: (bindings: Record<string, unknown>) => logger().child(bindings),
};

export type { Logger };
