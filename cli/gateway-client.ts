// How the command line reaches a gateway: its address and an API token, from the environment
// (GATEHOUSE_URL, GATEHOUSE_TOKEN) or from what `gatehouse login` saved; every answer that is not a success
// becomes a CliError carrying the gateway's own message.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { z } from "zod";
import { apiErrorSchema } from "../lib/protocol/admin";

/** A failure the user can act on: printed without a stack, with the exit code it deserves. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const savedLoginSchema = z.object({ url: z.url(), token: z.string().min(1) });
export type SavedLogin = z.infer<typeof savedLoginSchema>;

const configFile = () => path.join(process.env.XDG_CONFIG_HOME || path.join(homedir(), ".config"), "gatehouse", "login.json");

/** The token is a secret: the file is readable by its owner only, in a directory only they can list. */
export function saveLogin(login: SavedLogin) {
  const file = configFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

function savedLogin(): SavedLogin | null {
  let text: string;
  try {
    text = readFileSync(configFile(), "utf8");
  } catch {
    return null;
  }
  const parsed = savedLoginSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new CliError(`${configFile()} is not a saved login; run gatehouse login again`);
  return parsed.data;
}

export class GatewayClient {
  readonly url: URL;
  constructor(
    url: string,
    private readonly token: string,
  ) {
    this.url = new URL(url);
  }

  static fromEnvironment(): GatewayClient {
    const saved = savedLogin();
    const url = process.env.GATEHOUSE_URL || saved?.url;
    const token = process.env.GATEHOUSE_TOKEN || saved?.token;
    if (!url || !token) throw new CliError("not logged in: run gatehouse login --url <gateway address>, or set GATEHOUSE_URL and GATEHOUSE_TOKEN", 2);
    return new GatewayClient(url, token);
  }

  get authorization() {
    return `Bearer ${this.token}`;
  }

  /** The gateway's answer, or a CliError with its message (or why it could not be reached). */
  async request(method: "GET" | "POST", pathAndQuery: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(new URL(pathAndQuery, this.url), {
        method,
        headers: { authorization: this.authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(`cannot reach ${this.url.origin}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
    }
    if (response.ok) return response;
    const parsed = apiErrorSchema.safeParse(await response.json().catch(() => null));
    const fields = parsed.success && parsed.data.fields ? ` (${Object.entries(parsed.data.fields).map(([field, problem]) => `${field}: ${problem}`).join("; ")})` : "";
    throw new CliError(`${parsed.success ? parsed.data.error : `the gateway answered ${response.status}`}${fields} [HTTP ${response.status}]`);
  }

  async json<T>(method: "GET" | "POST", pathAndQuery: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, pathAndQuery, body)).json()) as T;
  }
}
