// Every environment variable Gatehouse reads is declared here, once, and validated at start.
// Nothing else reads process.env: a bad value stops the process with one line naming the variable.
import { hostname } from "node:os";
import path from "node:path";
import { z } from "zod";
import { parseTrustedProxies, type TrustedProxies } from "./http/client-address";
import { sinksSchema, type SinkConfig } from "./event-stream/sinks";
import { logLevels, type LogFormat, type LogLevel } from "./log";
import { roleNames, type Role } from "../protocol/domain";

const optionalString = z.string().trim().min(1).optional();

const absoluteHttpUrl = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    if (!URL.canParse(value)) ctx.addIssue({ code: "custom", message: "must be an absolute URL such as https://gatehouse.example.com" });
    else if (!/^https?:$/.test(new URL(value).protocol)) ctx.addIssue({ code: "custom", message: "must use http or https" });
  });

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((value) => ["true", "1", "yes"].includes(value));

/** A 256-bit key given as 64 hex characters or 44 base64 characters. */
export const masterKeySchema = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
    if (key.length !== 32) {
      ctx.addIssue({ code: "custom", message: "must be 32 bytes, as 64 hex or 44 base64 characters (openssl rand -hex 32)" });
      return z.NEVER;
    }
    return key;
  });


/** `OIDC_GROUP_ROLES=ops-admins=admin,secops=security`: which IdP group gives which role. */
const groupRoleMapping = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const mapping: { group: string; role: Role }[] = [];
    for (const pair of value.split(",").map((item) => item.trim()).filter(Boolean)) {
      const separator = pair.lastIndexOf("=");
      const group = pair.slice(0, separator).trim();
      const role = pair.slice(separator + 1).trim();
      if (separator <= 0 || !(roleNames as readonly string[]).includes(role)) {
        ctx.addIssue({ code: "custom", message: `"${pair}" must be group=role with role one of ${roleNames.join(", ")}` });
        return z.NEVER;
      }
      mapping.push({ group, role: role as Role });
    }
    return mapping;
  });

const environmentSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
    /** Log lines as JSON objects (for a log shipper) or text; JSON unless standard output is a terminal. */
    LOG_FORMAT: z.enum(["json", "text"]).optional(),
    LOG_LEVEL: z.enum(logLevels).default("info"),
    /** Where audit entries and commands are streamed (lib/infra/event-stream/sinks.ts); none by default. */
    SIEM_SINKS: sinksSchema.optional(),
    /** The Chromium that replays web visits into videos (Debian's package by default). */
    CHROMIUM_PATH: z.string().trim().min(1).default("/usr/bin/chromium"),
    HOST: z.string().trim().min(1).default("127.0.0.1"),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    PUBLIC_URL: absoluteHttpUrl.optional(),
    TRUST_PROXY: z
      .string()
      .default("false")
      .transform((value, ctx) => {
        const parsed = parseTrustedProxies(value);
        if ("problem" in parsed) {
          ctx.addIssue({ code: "custom", message: parsed.problem });
          return z.NEVER;
        }
        return parsed;
      }),
    APPS_DOMAIN: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?(:\d{1,5})?$/, "must be a domain name, optionally with a port (apps.example.net or apps.example.net:8443)")
      .optional(),
    NODE_NAME: z.string().trim().min(1).max(64).default(hostname()),
    INTERNAL_HOST: z.string().trim().min(1).default("127.0.0.1"),
    INTERNAL_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    INTERNAL_URL: absoluteHttpUrl.optional(),
    NODE_SECRET: z.string().trim().min(32, "must be at least 32 characters (openssl rand -base64 33)").optional(),
    DATA_DIR: z.string().trim().min(1).default(".gatehouse"),
    DATABASE_URL: z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    AUTH_SECRET: z.string().trim().min(32, "must be at least 32 characters (openssl rand -base64 33)").optional(),
    GATEHOUSE_MASTER_KEY: masterKeySchema.optional(),
    AUDIT_KEY: masterKeySchema.optional(),
    AUDIT_KEYS_PREVIOUS: z
      .string()
      .trim()
      .transform((value, ctx) => {
        const keys: (Buffer | "derived")[] = [];
        for (const entry of value.split(",").map((part) => part.trim()).filter(Boolean)) {
          if (entry === "derived") {
            keys.push("derived");
            continue;
          }
          const parsed = masterKeySchema.safeParse(entry);
          if (!parsed.success) {
            ctx.addIssue({ code: "custom", message: "must list 32-byte keys (64 hex or 44 base64 characters), or the word derived, separated by commas" });
            return z.NEVER;
          }
          keys.push(parsed.data);
        }
        return keys;
      })
      .optional(),
    AUDIT_ANCHOR_MINUTES: z.coerce.number().min(0.01).max(24 * 60).default(10),
    ANCHOR_FILE: optionalString,
    OIDC_ISSUER: absoluteHttpUrl.optional(),
    OIDC_CLIENT_ID: optionalString,
    OIDC_CLIENT_SECRET: optionalString,
    OIDC_DISPLAY_NAME: z.string().trim().min(1).default("Single sign-on"),
    OIDC_SCOPES: z.string().trim().min(1).default("openid profile email"),
    OIDC_GROUPS_CLAIM: z.string().trim().min(1).default("groups"),
    OIDC_GROUP_ROLES: groupRoleMapping.default([]),
    CONNECT_TICKET_TTL_SECONDS: z.coerce.number().int().min(1).max(30).default(30),
    TARGET_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
    RETURN_FREE_MEMORY_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    WEB_SESSION_MAX_HOURS: z.coerce.number().min(0.01).max(24 * 30).default(12),
    GUACD_HOST: optionalString,
    GUACD_PORT: z.coerce.number().int().min(1).max(65535).default(4822),
    /** Where notifications are mailed from: smtp://user:pass@host:port (STARTTLS when offered) or smtps:// (TLS). */
    SMTP_URL: z
      .string()
      .trim()
      .refine((value) => URL.canParse(value) && /^smtps?:$/.test(new URL(value).protocol), "must be smtp://host:port or smtps://host:port")
      .optional(),
    SMTP_FROM: z.string().trim().default("Gatehouse <gatehouse@localhost>"),
    /** Every notification is also POSTed here as JSON, signed with NOTIFY_WEBHOOK_SECRET. */
    NOTIFY_WEBHOOK_URL: absoluteHttpUrl.optional(),
    NOTIFY_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
    BLOB_STORE: z.enum(["fs", "s3", "azure"]).default("fs"),
    BLOB_DIR: optionalString,
    S3_ENDPOINT: absoluteHttpUrl.optional(),
    S3_REGION: z.string().trim().min(1).default("us-east-1"),
    S3_BUCKET: optionalString,
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    S3_FORCE_PATH_STYLE: booleanFlag.default(false),
    /** The storage account's connection string, from the Azure portal (Access keys) or a SAS. */
    AZURE_STORAGE_CONNECTION_STRING: optionalString,
    AZURE_STORAGE_CONTAINER: optionalString,
  })
  .superRefine((env, ctx) => {
    const oidcVariables = ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"] as const;
    if (oidcVariables.some((name) => env[name] !== undefined)) {
      for (const name of oidcVariables) {
        if (env[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required when any OIDC_ variable is set" });
      }
    }
    if (env.DATABASE_URL !== undefined) {
      // With an external database the node is one of possibly many: secrets must be shared, not generated.
      for (const name of ["AUTH_SECRET", "GATEHOUSE_MASTER_KEY"] as const) {
        if (env[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required when DATABASE_URL is set" });
      }
    }
    if (env.BLOB_STORE === "s3" && env.S3_BUCKET === undefined) {
      ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "is required when BLOB_STORE=s3" });
    }
    if (env.BLOB_STORE === "azure") {
      for (const name of ["AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_CONTAINER"] as const) {
        if (env[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required when BLOB_STORE=azure" });
      }
    }
    if (env.NOTIFY_WEBHOOK_URL !== undefined && env.NOTIFY_WEBHOOK_SECRET === undefined) {
      ctx.addIssue({ code: "custom", path: ["NOTIFY_WEBHOOK_SECRET"], message: "is required when NOTIFY_WEBHOOK_URL is set (the receiver checks the signature with it)" });
    }
  });

export type Environment = z.output<typeof environmentSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  displayName: string;
  /** Some IdPs release groups only for an extra scope (often `groups`). */
  scopes: string;
  groupsClaim: string;
  groupRoles: { group: string; role: Role }[];
}

export interface Config {
  mode: "development" | "production" | "test";
  host: string;
  port: number;
  publicUrl: URL;
  /** App hosts are `<name>.<appsDomain>` (host, with the port if not the scheme's); PUBLIC_URL's host by default. */
  appsDomain: string;
  /** Which proxies' X-Forwarded-For entries are believed (lib/infra/http/client-address.ts). */
  trustProxy: TrustedProxies;
  nodeName: string;
  log: { format: LogFormat; level: LogLevel };
  siemSinks: SinkConfig[];
  /** The browser a web visit's recording is replayed in for a video. */
  chromiumPath: string;
  /**
   * The node-to-node listener (live views relayed between nodes), apart from the public one: loopback on a free
   * port by default; a private address for a cluster across machines.
   */
  internal: { host: string; port: number };
  /** Where the other nodes reach this one; by default the internal listener's own address once it listens. */
  internalUrl: URL | undefined;
  /** Authenticates node-to-node links; unset, it is derived from AUTH_SECRET (which all nodes share). */
  nodeSecret: string | undefined;
  dataDir: string;
  /** Unset: the embedded PGlite database in dataDir. */
  databaseUrl: string | undefined;
  /** Unset in embedded mode until the data dir's generated secrets are loaded (see lib/infra/embedded-secrets.ts). */
  authSecret: string | undefined;
  masterKey: Buffer | undefined;
  /** Signs the audit and recording chains (unset: derived from the master key); earlier keys still verify. */
  evidence: { key: Buffer | undefined; previous: (Buffer | "derived")[]; anchorEveryMs: number; anchorFile: string };
  /** Unset: the embedded local admin signs in with a password. */
  oidc: OidcConfig | undefined;
  connectTicketTtlSeconds: number;
  /** How long a target may take to answer and log in before the user is told it did not. */
  targetConnectTimeoutMs: number;
  /** How often the allocator's free memory is given back to the system; 0: never. */
  returnFreeMemoryEveryMs: number;
  /** The longest any web visit lasts, whatever its app's idle timeout and time limit. */
  webSessionMaxMs: number;
  /** RDP and VNC: an Apache guacd to use instead of the engine this gateway builds and runs per connection. */
  guacd: { host: string; port: number } | undefined;
  /** Outgoing notifications (lib/data/governance/notify.ts); each channel is off while unset. */
  notifications: { smtpUrl: string | undefined; smtpFrom: string; webhook: { url: URL; secret: string } | undefined };
  blobStore:
    | { kind: "fs"; dir: string }
    | { kind: "s3"; endpoint?: string; region: string; bucket: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean }
    | { kind: "azure"; connectionString: string; container: string };
}

/** Empty strings count as unset, so `FOO=` in a .env file means "use the default". */
function withoutEmptyValues(source: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value.trim() !== ""));
}

export function parseConfig(source: Record<string, string | undefined>): Config {
  const result = environmentSchema.safeParse(withoutEmptyValues(source));
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? "environment");
        const received = source[name];
        const shown = received === undefined || /SECRET|KEY|PASSWORD|SINKS|CONNECTION/.test(name) ? "" : ` (got "${received}")`;
        return `${name} ${issue.message.replace(/^Invalid input: /, "")}${shown}`;
      }),
    );
  }
  const env = result.data;
  const dataDir = path.resolve(env.DATA_DIR);
  const publicUrl = new URL(env.PUBLIC_URL ?? `http://localhost:${env.PORT}`);
  return {
    mode: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    publicUrl,
    appsDomain: env.APPS_DOMAIN ?? publicUrl.host,
    trustProxy: env.TRUST_PROXY,
    nodeName: env.NODE_NAME,
    siemSinks: env.SIEM_SINKS ?? [],
    chromiumPath: env.CHROMIUM_PATH,
    log: { format: env.LOG_FORMAT ?? (process.stdout.isTTY ? "text" : "json"), level: env.LOG_LEVEL },
    internal: { host: env.INTERNAL_HOST, port: env.INTERNAL_PORT },
    internalUrl: env.INTERNAL_URL ? new URL(env.INTERNAL_URL) : undefined,
    nodeSecret: env.NODE_SECRET,
    dataDir,
    databaseUrl: env.DATABASE_URL,
    authSecret: env.AUTH_SECRET,
    masterKey: env.GATEHOUSE_MASTER_KEY,
    evidence: {
      key: env.AUDIT_KEY,
      previous: env.AUDIT_KEYS_PREVIOUS ?? [],
      anchorEveryMs: Math.round(env.AUDIT_ANCHOR_MINUTES * 60_000),
      anchorFile: path.resolve(env.ANCHOR_FILE ?? path.join(dataDir, "audit-anchors.jsonl")),
    },
    oidc:
      env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET
        ? {
            issuer: env.OIDC_ISSUER,
            clientId: env.OIDC_CLIENT_ID,
            clientSecret: env.OIDC_CLIENT_SECRET,
            displayName: env.OIDC_DISPLAY_NAME,
            scopes: env.OIDC_SCOPES,
            groupsClaim: env.OIDC_GROUPS_CLAIM,
            groupRoles: env.OIDC_GROUP_ROLES,
          }
        : undefined,
    connectTicketTtlSeconds: env.CONNECT_TICKET_TTL_SECONDS,
    targetConnectTimeoutMs: env.TARGET_CONNECT_TIMEOUT_SECONDS * 1000,
    returnFreeMemoryEveryMs: env.RETURN_FREE_MEMORY_SECONDS * 1000,
    webSessionMaxMs: Math.round(env.WEB_SESSION_MAX_HOURS * 60 * 60 * 1000),
    guacd: env.GUACD_HOST ? { host: env.GUACD_HOST, port: env.GUACD_PORT } : undefined,
    notifications: {
      smtpUrl: env.SMTP_URL,
      smtpFrom: env.SMTP_FROM,
      webhook: env.NOTIFY_WEBHOOK_URL ? { url: new URL(env.NOTIFY_WEBHOOK_URL), secret: env.NOTIFY_WEBHOOK_SECRET! } : undefined,
    },
    blobStore:
      env.BLOB_STORE === "s3"
        ? {
            kind: "s3",
            endpoint: env.S3_ENDPOINT,
            region: env.S3_REGION,
            bucket: env.S3_BUCKET!,
            accessKeyId: env.S3_ACCESS_KEY_ID,
            secretAccessKey: env.S3_SECRET_ACCESS_KEY,
            forcePathStyle: env.S3_FORCE_PATH_STYLE,
          }
        : env.BLOB_STORE === "azure"
          ? { kind: "azure", connectionString: env.AZURE_STORAGE_CONNECTION_STRING!, container: env.AZURE_STORAGE_CONTAINER! }
          : { kind: "fs", dir: path.resolve(env.BLOB_DIR ?? path.join(dataDir, "blobs")) },
  };
}

/** Where other nodes reach this one's internal listener, bound to `port`. */
export function internalUrlOf(config: Pick<Config, "internal" | "internalUrl">, port: number): URL {
  if (config.internalUrl) return config.internalUrl;
  const { host } = config.internal;
  return new URL(`http://${host === "0.0.0.0" || host === "::" ? hostname() : host.includes(":") ? `[${host}]` : host}:${port}`);
}

/** The one place that reads the process environment. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}
