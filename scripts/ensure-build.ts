// `npm start` runs this first: builds the Next.js app when there is no build yet or the sources are newer
// than it, so a fresh clone and a `git pull` both just work; and the desktop engine, where it can be built.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const buildMarker = ".next/BUILD_ID";
const sources = ["app", "lib", "public", "next.config.ts", "postcss.config.mjs", "package-lock.json"];

function newestChange(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...readdirSync(entry).map((child) => newestChange(path.join(entry, child))));
}

const builtAt = existsSync(buildMarker) ? statSync(buildMarker).mtimeMs : 0;
const changedAt = Math.max(...sources.map(newestChange));
if (changedAt > builtAt) {
  console.log(builtAt ? "Sources changed since the last build: rebuilding the web app…" : "First start: building the web app (a minute or two)…");
  const build = spawnSync("npx", ["next", "build"], { stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// RDP and VNC need the desktop engine: built here when the machine has its build dependencies. Without them
// the gateway still starts, and says at start and on every RDP or VNC connection what to install.
const engine = spawnSync("bash", ["scripts/build-engine.sh"], { stdio: ["ignore", "inherit", "pipe"] });
if (engine.status !== 0) console.warn(`The desktop engine for RDP and VNC was not built${engine.status === 2 ? " (its build dependencies are missing)" : ""}; everything else works.`);

// The helper that gives freed memory back to the system (server/free-memory.ts): optional in the same way.
const native = spawnSync("bash", ["scripts/build-native.sh"], { stdio: ["ignore", "inherit", "pipe"] });
if (native.status !== 0) console.warn(`The native memory helper was not built: ${native.stderr.toString().trim()}`);
