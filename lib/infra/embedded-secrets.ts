// In embedded mode (no DATABASE_URL) a first start generates the session-signing secret and the credential
// master key into the data dir, readable by the owner only, so `npm start` needs no configuration.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "./config";
import { masterKeySchema } from "./config";

export interface Secrets {
  authSecret: string;
  masterKey: Buffer;
}

function readOrCreate(file: string, generate: () => string): string {
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) chmodSync(file, 0o600);
    return readFileSync(file, "utf8").trim();
  }
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: "wx" });
  return value;
}

export function resolveSecrets(config: Config): Secrets {
  if (config.authSecret && config.masterKey) return { authSecret: config.authSecret, masterKey: config.masterKey };
  const directory = path.join(config.dataDir, "secrets");
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const authSecret = config.authSecret ?? readOrCreate(path.join(directory, "auth-secret"), () => randomBytes(33).toString("base64"));
  const masterKey =
    config.masterKey ?? masterKeySchema.parse(readOrCreate(path.join(directory, "master-key"), () => randomBytes(32).toString("hex")));
  return { authSecret, masterKey };
}
