// `gatehouse login`: checks a token against the gateway and saves both for the next commands. The token is read
// from GATEHOUSE_TOKEN or standard input, never from the command line, where other users could see it in `ps`.
import { createInterface } from "node:readline/promises";
import type { Caller } from "../lib/protocol/api-tokens";
import { apiTokenPattern } from "../lib/protocol/api-tokens";
import { CliError, GatewayClient, saveLogin } from "./gateway-client";

async function readToken(): Promise<string> {
  if (process.env.GATEHOUSE_TOKEN) return process.env.GATEHOUSE_TOKEN;
  if (process.stdin.isTTY) process.stderr.write("API token (from the gateway's API tokens page): ");
  const reader = createInterface({ input: process.stdin, terminal: false });
  for await (const line of reader) {
    reader.close();
    return line.trim();
  }
  return "";
}

export async function login(url: string | undefined) {
  const address = url ?? process.env.GATEHOUSE_URL;
  if (!address || !URL.canParse(address)) throw new CliError("give the gateway's address: gatehouse login --url https://gatehouse.example.com", 2);
  const token = await readToken();
  if (!apiTokenPattern.test(token)) throw new CliError("that is not a Gatehouse API token (they start with gatehouse_)", 2);
  const client = new GatewayClient(address, token);
  const me = await client.json<Caller>("GET", "/api/me");
  const file = saveLogin({ url: client.url.origin, token });
  process.stderr.write(`Logged in to ${client.url.origin} as ${me.username} (${me.roles.join(", ")}) with token ${me.token?.name} [${me.token?.scopes.join(", ")}], valid until ${me.token?.expiresAt.slice(0, 10)}. Saved in ${file}.\n`);
}
