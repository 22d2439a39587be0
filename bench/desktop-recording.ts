// npm run bench:desktop-recording — what a desktop recording stores per hour, and whether its text stays legible.
// On xrdp (the test account's twm desktop) through the gateway, recorded as every desktop session is:
// - the worst case: a screen-filling xterm scrolling a numbered document at 250 lines a second, in X's bitmap
//   font and in an anti-aliased one;
// - an office hour: a scripted cycle of idle stretches, typing into vi, reading a long document in less page by
//   page, and a web page in Chromium scrolled by keys, each window opened and closed (BENCH_DESKTOP_OFFICE_MINUTES
//   of it, per hour as measured).
// Baseline in the same run: the stream the browser got, gzip-compressed as a whole (what recording every frame
// would store at best). Legibility: pictures of the recording, rendered by the video exporter's renderer, read by
// Debian's tesseract and compared word by word with the document lines they show. Ends with one JSON line.
import { execFileSync } from "node:child_process";
import { chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { PNG } from "pngjs";
import postgres from "postgres";
import type WebSocket from "ws";
import { encodeInstruction, GuacamoleParser } from "../lib/protocol/guacamole";
import { desktopPictures, type DesktopPicture } from "../server/exports/desktop-video";
import { startXrdp } from "../test/fixtures/desktop-targets";
import { seededRandom } from "../test/fixtures/seeded-random";
import { recordedStream } from "./desktop-seek";
import { atEnd, type BenchGateway, gatewayDesktop, keysyms, phase, pressed, runBenchmark, sleep, startBenchGateway, typed } from "./support";

const worstSeconds = Number(process.env.BENCH_DESKTOP_WORST_SECONDS ?? 60);
const officeMinutes = Number(process.env.BENCH_DESKTOP_OFFICE_MINUTES ?? 10);
const ocrSamples = Number(process.env.BENCH_DESKTOP_OCR_SAMPLES ?? 12);
const parts = (process.env.BENCH_DESKTOP_PARTS ?? "worst-bitmap,worst-antialiased,office").split(",");
/** A folder to keep each part's recorded stream and the pictures OCR read (with what it read), for a look. */
const keepDir = process.env.BENCH_DESKTOP_KEEP;
const size = { width: 1280, height: 800, dpi: 96 };
/** A font people read, at a size people use (the fixture's xterm keeps X's 6×13 bitmap font). */
const xterm = "xterm -fa 'DejaVu Sans Mono' -fs 11";
/** The fixture's xterm: where commands are typed (twm gives the keyboard to the window under the pointer). */
const shellAt = { x: 200, y: 150 };

const vocabulary = (
  "account budget report meeting schedule server network window project release customer invoice contract " +
  "backup storage policy review request approval ticket deploy monitor service cluster database replica " +
  "quarter revenue forecast payroll vendor shipment warehouse inventory support incident change window " +
  "office printer laptop badge access control audit record session operator planning summary agenda " +
  "minutes draft final version update status pending complete delayed urgent normal weekly monthly"
).split(" ");

/** Numbered lines of ordinary words, the same every run: the text whose legibility is checked. */
function documentLines(count: number): string[] {
  const next = seededRandom(20261201);
  return Array.from({ length: count }, (_, index) => `${10_001 + index} ${Array.from({ length: 9 }, () => vocabulary[Math.floor(next() * vocabulary.length)]).join(" ")}`);
}

/** A long page of headings, paragraphs, a table and coloured boxes, as an intranet page is. */
function pageHtml(lines: string[]): string {
  const sections = Array.from({ length: 24 }, (_, section) => {
    const paragraph = (offset: number) => `<p>${lines.slice(section * 12 + offset, section * 12 + offset + 4).map((line) => line.slice(6)).join(". ")}.</p>`;
    const rows = lines.slice(section * 12, section * 12 + 5).map((line) => `<tr>${line.split(" ").slice(0, 5).map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("");
    return `<h2>Section ${section + 1}: ${lines[section]!.split(" ")[1]}</h2>${paragraph(0)}<div class="box" style="background:hsl(${section * 37},60%,85%)">${paragraph(4)}</div><table>${rows}</table>${paragraph(8)}`;
  });
  return `<!doctype html><meta charset="utf-8"><title>Intranet</title><style>body{font:16px sans-serif;margin:2em 4em;color:#222}h2{color:#1e5aa0;border-bottom:2px solid #ccd}.box{padding:1em;border-radius:8px}table{border-collapse:collapse}td{border:1px solid #aab;padding:4px 10px}</style><h1>Operations handbook</h1>${sections.join("")}`;
}

/** A desktop session through the gateway, read as a fast browser reads it: every frame acknowledged at once. */
interface Desktop {
  sessionId: string;
  send(instructions: string): void;
  /** The stream as the browser got it. */
  received: string[];
  /** performance.now() of the first frame: the recording's clock starts about there. */
  firstFrameAt: number;
  close(): Promise<void>;
}

async function openDesktop(bench: BenchGateway): Promise<Desktop> {
  const socket: WebSocket = await gatewayDesktop(bench, bench.targetIds.desktop!, size);
  const parser = new GuacamoleParser();
  const received: string[] = [];
  let sessionId = "";
  let ended = "";
  const firstFrame = new Promise<number>((resolve, reject) => {
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const message = JSON.parse(String(data)) as { type: string; sessionId?: string };
        if (message.type === "connected") sessionId = message.sessionId!;
        if (message.type === "ended") ended = String(data);
        return;
      }
      received.push(data.toString("utf8"));
      for (const { opcode, args } of parser.push(data)) {
        if (opcode !== "sync") continue;
        socket.send(Buffer.from(encodeInstruction("sync", args)), { binary: true });
        resolve(performance.now());
      }
    });
    socket.once("close", (code) => reject(new Error(`the desktop closed (${code}) before its first frame: ${ended}`)));
  });
  const firstFrameAt = await firstFrame;
  if (!sessionId) throw new Error("the desktop's first frame came before its session id");
  return {
    sessionId,
    received,
    firstFrameAt,
    send: (instructions) => {
      if (ended) throw new Error(`the desktop session ended: ${ended}`);
      socket.send(Buffer.from(instructions), { binary: true });
    },
    close: async () => {
      socket.close();
      await new Promise((resolve) => socket.once("close", resolve));
    },
  };
}

const pointerTo = (desktop: Desktop, at: { x: number; y: number }) => desktop.send(encodeInstruction("mouse", [at.x, at.y, 0]));

/** Types `text` at `keysPerSecond`, as a person does. */
async function typeSlowly(desktop: Desktop, text: string, keysPerSecond: number, until: number) {
  for (const character of text) {
    if (performance.now() >= until) return;
    desktop.send(typed(character));
    await sleep(1000 / keysPerSecond);
  }
}

interface Stored {
  storedMbPerHour: number;
  everyFrameGzipMbPerHour: number;
  recordedMinutes: number;
}

/** The session's recording per hour, next to the whole stream the browser got, gzip-compressed at once. */
async function storedPerHour(bench: BenchGateway, desktop: Desktop): Promise<Stored> {
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (const deadline = Date.now() + 30_000; ; await sleep(500)) {
      const [session] = await sql<{ status: string }[]>`select status from sessions where id = ${desktop.sessionId}`;
      if (session?.status !== "active") break;
      if (Date.now() > deadline) throw new Error("the session is still active 30 s after its socket closed");
    }
    const [recording] = await sql<{ bytes: string; ms: number }[]>`select coalesce(sum(size), 0) as bytes, max(end_ms) as ms from recording_chunks where session_id = ${desktop.sessionId}`;
    const hours = Math.max(1, recording!.ms) / 3_600_000;
    const everyFrame = gzipSync(Buffer.from(desktop.received.join(""), "utf8")).length;
    return {
      storedMbPerHour: Number((Number(recording!.bytes) / 1e6 / hours).toFixed(1)),
      everyFrameGzipMbPerHour: Number((everyFrame / 1e6 / hours).toFixed(1)),
      recordedMinutes: Number((recording!.ms / 60_000).toFixed(1)),
    };
  } finally {
    await sql.end();
  }
}

const words = (line: string) =>
  line
    .toLowerCase()
    .split(/\s+/)
    .map((word) => word.replace(/[^a-z0-9]/g, ""))
    .filter(Boolean);

/** How many of `expected` are in `read`, each read word used once. */
function wordsFound(expected: string[], read: string[]): number {
  const left = new Map<string, number>();
  for (const word of read) left.set(word, (left.get(word) ?? 0) + 1);
  let found = 0;
  for (const word of expected) {
    const count = left.get(word) ?? 0;
    if (count > 0) {
      found++;
      left.set(word, count - 1);
    }
  }
  return found;
}

/** Each pair of words next to each other in a document line, and the lines that have it. */
function pairIndex(lines: string[]): Map<string, number[]> {
  const index = new Map<string, number[]>();
  lines.forEach((line, number) => {
    const tokens = words(line).slice(1);
    for (let at = 0; at + 1 < tokens.length; at++) {
      const pair = `${tokens[at]} ${tokens[at + 1]}`;
      index.set(pair, [...(index.get(pair) ?? []), number]);
    }
  });
  return index;
}

/**
 * Of the document lines a picture shows, how many words OCR read back. A line read is placed by its words (the
 * document line sharing most pairs of neighbouring words with it, when most of that line's words are there; OCR
 * misreads digits of X's bitmap font, so the line numbers cannot place it). Between two placed lines, every
 * document line counts, read or not. Where two placed lines do not fit one stretch of the document (a frame caught
 * mid-scroll), the stretch between them is left out and counted as a tear.
 */
function legibility(ocrText: string, lines: string[], pairs: Map<string, number[]>) {
  const read = ocrText.split("\n").map(words).filter((tokens) => tokens.length > 0);
  const anchors: { index: number; line: number }[] = [];
  read.forEach((tokens, index) => {
    const votes = new Map<number, number>();
    for (let at = 0; at + 1 < tokens.length; at++) for (const line of pairs.get(`${tokens[at]} ${tokens[at + 1]}`) ?? []) votes.set(line, (votes.get(line) ?? 0) + 1);
    const [best] = [...votes.entries()].sort((a, b) => b[1] - a[1]);
    if (!best) return;
    const expected = words(lines[best[0]]!).slice(1);
    if (wordsFound(expected, tokens) >= 0.6 * expected.length) anchors.push({ index, line: best[0] + 1 });
  });
  let expectedWords = 0;
  let foundWords = 0;
  let tears = 0;
  for (const [position, anchor] of anchors.entries()) {
    const next = anchors[position + 1];
    const linesBetween = next ? next.line - anchor.line : 1;
    const readBetween = next ? next.index - anchor.index : 1;
    if (linesBetween <= 0 || Math.abs(linesBetween - readBetween) > 3) {
      tears++;
      continue;
    }
    // The words, not the line numbers: those are the benchmark's device, and X's bitmap digits are what tesseract
    // misreads (3 and 5, 2 and 7), though the recorded pixels are exact.
    const expected = lines.slice(anchor.line - 1, anchor.line - 1 + linesBetween).flatMap((line) => words(line).slice(1));
    expectedWords += expected.length;
    foundWords += wordsFound(expected, read.slice(anchor.index, anchor.index + readBetween).flat());
  }
  return { expectedWords, foundWords, anchors: anchors.length, tears };
}

/** White around a picture for OCR: tesseract drops text that touches the image's edge (a window at x = 0). */
const ocrMargin = 30;

/** A picture enlarged `scale` times (nearest neighbour: OCR reads small text better larger), read by tesseract. */
function ocr(picture: DesktopPicture, scale: number, workDir: string, keepAs: string | null): string {
  const scaled = new PNG({ width: picture.width * scale + 2 * ocrMargin, height: picture.height * scale + 2 * ocrMargin });
  scaled.data.fill(255);
  for (let y = 0; y < picture.height * scale; y++)
    for (let x = 0; x < picture.width * scale; x++) {
      const from = (Math.floor(y / scale) * picture.width + Math.floor(x / scale)) * 4;
      picture.pixels.copy(scaled.data, ((y + ocrMargin) * scaled.width + x + ocrMargin) * 4, from, from + 4);
    }
  const file = path.join(workDir, "picture.png");
  writeFileSync(file, PNG.sync.write(scaled));
  const text = execFileSync("tesseract", [file, "stdout", "--psm", "4"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 });
  if (keepAs) {
    copyFileSync(file, `${keepAs}.png`);
    writeFileSync(`${keepAs}.txt`, text);
  }
  return text;
}

/** OCR of `samples` pictures of the recording taken evenly between `fromMs` and `toMs` of its clock. */
async function readBack(bench: BenchGateway, sessionId: string, lines: string[], window: { name: string; fromMs: number; toMs: number; ocrScale: number }, workDir: string) {
  const stream = await recordedStream(bench, sessionId);
  if (keepDir) writeFileSync(path.join(keepDir, `${window.name}.guac`), stream);
  // What the recording's pictures are made of: megabytes of base64 by image type, and how many copies moved them.
  const imageMb: Record<string, number> = {};
  const mimetypes = new Map<string, string>();
  let copies = 0;
  for (const { opcode, args } of new GuacamoleParser({ maxInstructionLength: 1024 * 1024, maxElements: 4096 }).push(stream)) {
    if (opcode === "copy") copies++;
    if (opcode === "img") mimetypes.set(args[0]!, args[3]!);
    if (opcode === "blob") {
      const mimetype = mimetypes.get(args[0]!) ?? "other";
      imageMb[mimetype] = (imageMb[mimetype] ?? 0) + args[1]!.length / 1e6;
    }
  }
  for (const mimetype of Object.keys(imageMb)) imageMb[mimetype] = Number(imageMb[mimetype]!.toFixed(2));
  const moments = Array.from({ length: ocrSamples }, (_, sample) => Math.round((window.fromMs + ((window.toMs - window.fromMs) * (sample + 0.5)) / ocrSamples) / 1000) * 1000);
  const pairs = pairIndex(lines);
  const totals = { pictures: 0, expectedWords: 0, foundWords: 0, anchors: 0, tears: 0 };
  const worst = { atMs: 0, share: 1 };
  async function* once() {
    yield stream;
  }
  for await (const picture of desktopPictures(once(), { frameMs: 1000, untilMs: window.toMs })) {
    if (!moments.includes(picture.atMs)) continue;
    const read = legibility(ocr(picture, window.ocrScale, workDir, keepDir ? path.join(keepDir, `${window.name}-${picture.atMs}`) : null), lines, pairs);
    totals.pictures++;
    totals.expectedWords += read.expectedWords;
    totals.foundWords += read.foundWords;
    totals.anchors += read.anchors;
    totals.tears += read.tears;
    const share = read.expectedWords ? read.foundWords / read.expectedWords : 0;
    if (share < worst.share) Object.assign(worst, { atMs: picture.atMs, share: Number(share.toFixed(3)) });
  }
  if (totals.pictures === 0) throw new Error(`no picture of the recording at ${moments.join(", ")} ms`);
  const readShare = totals.expectedWords ? Number((totals.foundWords / totals.expectedWords).toFixed(4)) : 0;
  return { ...totals, readShare, worstPicture: worst, imageMb, copies };
}

await runBenchmark("desktop-recording", async (figures) => {
  Object.assign(figures, { size: `${size.width}x${size.height}`, worstSeconds, officeMinutes, targets: { officeMbPerHour: 100, worstMbPerHour: 400, wordsReadBack: 0.98 } });
  execFileSync("tesseract", ["--version"], { stdio: "ignore" });
  const xrdp = await phase("starting xrdp", 60_000, () => startXrdp());
  atEnd(() => xrdp.stop());
  // The account's files: the document, the page, and a twm that places windows where programs ask.
  const home = execFileSync("getent", ["passwd", xrdp.username], { encoding: "utf8" }).split(":")[5]!;
  const owner = { uid: Number(execFileSync("id", ["-u", xrdp.username], { encoding: "utf8" })), gid: Number(execFileSync("id", ["-g", xrdp.username], { encoding: "utf8" })) };
  const lines = documentLines(20_000);
  const files = { "bench-document.txt": `${lines.join("\n")}\n`, "bench-page.html": pageHtml(lines), ".twmrc": 'UsePPosition "on"\nRandomPlacement\n' };
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(home, name), content);
    chownSync(path.join(home, name), owner.uid, owner.gid);
  }
  atEnd(() => {
    for (const name of [...Object.keys(files), "bench-note.txt", ".bench-chromium"]) rmSync(path.join(home, name), { recursive: true, force: true });
  });
  const workDir = mkdtempSync(path.join(tmpdir(), "gatehouse-bench-ocr-"));
  atEnd(() => rmSync(workDir, { recursive: true, force: true }));
  const bench = await phase("starting the gateway", 180_000, () =>
    startBenchGateway({ name: "desktop_recording", login: { username: xrdp.username, password: xrdp.password }, roles: ["user", "reviewer"], targets: { desktop: { protocol: "rdp", host: xrdp.host, port: xrdp.port } } }),
  );
  const stopAccountPrograms = (pattern: string) => {
    try {
      execFileSync("pkill", ["-u", xrdp.username, "-f", pattern], { stdio: "ignore" });
    } catch {
      // none running
    }
  };

  // The worst case twice: in X's 6×13 bitmap font (the desktop's default terminal, as bench:rdp scrolls it) and in
  // an anti-aliased font, whose many grey levels make every picture of text several times larger.
  const worstCases = [
    { name: "worst-bitmap", terminal: "xterm", columns: 210, rows: 60, ocrScale: 3 },
    { name: "worst-antialiased", terminal: xterm, columns: 142, rows: 44, ocrScale: 2 },
  ].filter(({ name }) => parts.includes(name));
  for (const worst of worstCases) {
    const desktop = await phase(`${worst.name}: a screen-filling xterm scrolling 250 lines a second, ${worstSeconds} s`, (worstSeconds + 120) * 1000, async () => {
      const desktop = await openDesktop(bench);
      pointerTo(desktop, shellAt);
      await sleep(1000);
      desktop.send(typed(`${worst.terminal} -geometry ${worst.columns}x${worst.rows}+0+0 -e perl -ne 'BEGIN { $| = 1 } print; select(undef, undef, undef, 0.004)' $HOME/bench-document.txt &\n`));
      await sleep(worstSeconds * 1000);
      await desktop.close();
      return desktop;
    });
    stopAccountPrograms("bench-document.txt");
    const stored = await phase(`${worst.name}: its recording`, 60_000, () => storedPerHour(bench, desktop));
    console.log(`  ${worst.name}: ${stored.storedMbPerHour} MB/h stored; every frame, gzip-compressed whole: ${stored.everyFrameGzipMbPerHour} MB/h`);
    const legible = await phase(`${worst.name}: reading its recording back (tesseract)`, 600_000, () =>
      readBack(bench, desktop.sessionId, lines, { name: worst.name, fromMs: 5000, toMs: worstSeconds * 1000 - 1000, ocrScale: worst.ocrScale }, workDir),
    );
    console.log(`  ${worst.name}: ${legible.foundWords} of ${legible.expectedWords} words read back (${(legible.readShare * 100).toFixed(1)} %) in ${legible.pictures} pictures, ${legible.tears} tears; images ${JSON.stringify(legible.imageMb)} MB, ${legible.copies} copies`);
    figures[worst.name] = { ...stored, legible };
  }

  if (parts.includes("office")) {
    const scale = officeMinutes / 10;
    const seconds = (value: number) => value * scale * 1000;
    const timeline: { step: string; fromMs: number; toMs: number }[] = [];
    const desktop = await phase(`an office hour's cycle, ${officeMinutes} min`, seconds(600) + 180_000, async () => {
      const desktop = await openDesktop(bench);
      const since = () => performance.now() - desktop.firstFrameAt;
      const step = async (name: string, work: () => Promise<unknown>) => {
        const fromMs = since();
        console.log(`  ${name}`);
        await work();
        timeline.push({ step: name, fromMs: Math.round(fromMs), toMs: Math.round(since()) });
      };
      const endAt = desktop.firstFrameAt + seconds(600);
      await step("idle", () => sleep(seconds(60)));
      await step("typing a note in vi", async () => {
        pointerTo(desktop, shellAt);
        await sleep(500);
        desktop.send(typed(`${xterm} -geometry 90x30+260+120 -e vi $HOME/bench-note.txt &\n`));
        await sleep(3000);
        pointerTo(desktop, { x: 700, y: 400 });
        await sleep(500);
        desktop.send(typed("i"));
        const prose = lines.slice(100, 140).map((line) => `${line.slice(6)}.`).join("\n");
        await typeSlowly(desktop, prose, 5, performance.now() + seconds(100));
        desktop.send(pressed(keysyms.Escape) + typed(":wq\n"));
        await sleep(1000);
      });
      await step("idle", () => sleep(seconds(45)));
      await step("reading a document in less", async () => {
        pointerTo(desktop, shellAt);
        await sleep(500);
        desktop.send(typed(`${xterm} -geometry 142x42+0+0 -e less $HOME/bench-document.txt &\n`));
        await sleep(3000);
        pointerTo(desktop, { x: 640, y: 400 });
        const until = performance.now() + seconds(120);
        for (let page = 0; performance.now() < until; page++) {
          // Mostly a page at a time, now and then a few lines.
          desktop.send(page % 4 === 3 ? pressed(keysyms.Down).repeat(5) : pressed(keysyms.PageDown));
          await sleep(3000);
        }
        desktop.send(typed("q"));
        await sleep(1000);
      });
      await step("idle", () => sleep(seconds(45)));
      await step("a web page in Chromium", async () => {
        pointerTo(desktop, shellAt);
        await sleep(500);
        desktop.send(
          typed(`chromium --no-sandbox --disable-gpu --no-first-run --user-data-dir=$HOME/.bench-chromium --window-position=60,30 --window-size=1100,700 --app=file://$HOME/bench-page.html >/dev/null 2>&1 &\n`),
        );
        await sleep(8000);
        pointerTo(desktop, { x: 600, y: 400 });
        const until = performance.now() + seconds(90);
        for (let move = 0; performance.now() < until; move++) {
          desktop.send(move % 3 === 2 ? pressed(keysyms.PageDown) : pressed(keysyms.Down).repeat(3));
          await sleep(2000);
        }
        desktop.send(pressed("w".codePointAt(0)!, keysyms.Control));
        await sleep(2000);
      });
      await step("idle", () => sleep(Math.max(0, endAt - performance.now())));
      await desktop.close();
      return desktop;
    });
    stopAccountPrograms("bench-");
    figures.officeTimeline = timeline;
    const stored = await phase("the office hour's recording", 60_000, () => storedPerHour(bench, desktop));
    console.log(`  office hour: ${stored.storedMbPerHour} MB/h stored; every frame, gzip-compressed whole: ${stored.everyFrameGzipMbPerHour} MB/h`);
    const reading = timeline.find(({ step }) => step.startsWith("reading"))!;
    const legible = await phase("reading the office hour's document back (tesseract)", 600_000, () =>
      readBack(bench, desktop.sessionId, lines, { name: "office", fromMs: reading.fromMs + 5000, toMs: reading.toMs - 2000, ocrScale: 2 }, workDir),
    );
    console.log(`  office hour, the document in less: ${legible.foundWords} of ${legible.expectedWords} words read back (${(legible.readShare * 100).toFixed(1)} %) in ${legible.pictures} pictures`);
    figures.office = { ...stored, legible };
  }
});
