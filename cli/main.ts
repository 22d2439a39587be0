// The `gatehouse` command line: the gateway's API for people at a terminal and for scripts. Each command is one
// API call or a few, made with an API token (see `gatehouse login`).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { tailAudit } from "./audit";
import { CliError, GatewayClient } from "./gateway-client";
import { login } from "./login";
import { listNodes } from "./nodes";
import { outputFormat } from "./output";
import { exportRecording, exportVideo, playRecording, verifyExportFile, verifyRecording } from "./recordings";
import { controlSession, listSessions, requireId, watchSession } from "./sessions";

const usage = `Usage: gatehouse <command> [options]

  login --url <address>              check an API token (from GATEHOUSE_TOKEN or stdin) and save it
  sessions list [filters]            sessions, newest first; filters: --user --target --node --protocol
                                     --status live|ended|interrupted --from/--to YYYY-MM-DD --risky
                                     --sort started|risk --limit N (100) --output table|json
  sessions watch <id>                a live terminal session here, read-only (Ctrl-C stops watching)
  sessions lock|unlock|terminate <id> --reason <why>
  recordings export <id> [--file F]  .cast (terminal), .guac (desktop) or rrweb .json (web), and its signature
                                     (F.sig); --file - writes the export alone to stdout; --video mp4|webm renders
                                     a desktop or web recording as a video first, showing its progress
  recordings verify <id>             whether the stored recording is whole and unaltered (exit 1 if not)
  recordings verify --file F         whether an exported file is what the gateway signed (F.sig, or --signature)
  recordings play <id>               a terminal recording here: --speed N (1) --max-idle S (2) --format text
  audit tail [--follow]              the newest audit entries: --lines N (20) --action <prefix> --actor <name>
                                     --output table|json
  nodes list [--output table|json]   the gateway nodes and their health

The gateway and token come from GATEHOUSE_URL and GATEHOUSE_TOKEN, or from what login saved.
`;

const options = {
  url: { type: "string" },
  output: { type: "string" },
  user: { type: "string" },
  target: { type: "string" },
  node: { type: "string" },
  protocol: { type: "string" },
  status: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  risky: { type: "boolean" },
  sort: { type: "string" },
  limit: { type: "string" },
  reason: { type: "string" },
  file: { type: "string" },
  signature: { type: "string" },
  video: { type: "string" },
  speed: { type: "string" },
  "max-idle": { type: "string" },
  format: { type: "string" },
  follow: { type: "boolean", short: "f" },
  lines: { type: "string", short: "n" },
  action: { type: "string" },
  actor: { type: "string" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsConfig["options"];

function positiveNumber(value: string | undefined, name: string, fallback: number, most: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || number > most) throw new CliError(`--${name} must be a number above 0 and at most ${most}`, 2);
  return number;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [group, command, id] = positionals;
  if (values.help || !group) {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  if (group === "login") {
    await login(values.url);
    return 0;
  }
  const format = (() => {
    try {
      return outputFormat(values.output);
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
  })();
  const client = GatewayClient.fromEnvironment();
  switch (`${group} ${command ?? ""}`) {
    case "sessions list": {
      const { user, target, node, protocol, status, from, to, risky, sort } = values;
      await listSessions(client, { user, target, node, protocol, status, from, to, risky, sort }, positiveNumber(values.limit, "limit", 100, 100_000), format);
      return 0;
    }
    case "sessions watch":
      return watchSession(client, requireId(id, "gatehouse sessions watch <id>"));
    case "sessions lock":
    case "sessions unlock":
    case "sessions terminate":
      if (!values.reason?.trim()) throw new CliError(`say why with --reason: it goes to the audit log and to the person`, 2);
      await controlSession(client, requireId(id, `gatehouse sessions ${command} <id> --reason <why>`), command as "lock" | "unlock" | "terminate", values.reason);
      return 0;
    case "recordings export":
      if (values.video !== undefined) {
        if (values.video !== "mp4" && values.video !== "webm") throw new CliError("--video is mp4 or webm", 2);
        await exportVideo(client, requireId(id, "gatehouse recordings export <id> --video mp4"), values.video, values.file);
      } else await exportRecording(client, requireId(id, "gatehouse recordings export <id>"), values.file);
      return 0;
    case "recordings verify":
      if (values.file) return verifyExportFile(client, values.file, values.signature);
      return verifyRecording(client, requireId(id, "gatehouse recordings verify <id> | --file <export> [--signature <file.sig>]"));
    case "recordings play":
      if (values.format !== undefined && values.format !== "text") throw new CliError("--format is text, or left out to play with timing", 2);
      await playRecording(client, requireId(id, "gatehouse recordings play <id>"), {
        text: values.format === "text",
        speed: positiveNumber(values.speed, "speed", 1, 1000),
        maxIdleMs: positiveNumber(values["max-idle"], "max-idle", 2, 3600) * 1000,
      });
      return 0;
    case "audit tail":
      await tailAudit(client, { lines: positiveNumber(values.lines, "lines", 20, 200), follow: Boolean(values.follow), action: values.action, actor: values.actor, format });
      return 0;
    case "nodes list":
      await listNodes(client, format);
      return 0;
    default:
      throw new CliError(`unknown command: ${positionals.join(" ")}\n\n${usage}`, 2);
  }
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  const known = error instanceof CliError;
  const usageError = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  process.stderr.write(`gatehouse: ${known || usageError ? (error as Error).message : `unexpected error: ${(error as Error).stack ?? String(error)}`}\n`);
  process.exitCode = known ? (error as CliError).exitCode : usageError ? 2 : 1;
}
