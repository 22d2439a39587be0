import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "@/lib/infra/config";

function problemsOf(environment: Record<string, string>): string[] {
  try {
    parseConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a configuration error");
}

describe("configuration", () => {
  it("runs embedded with no variables at all", () => {
    const config = parseConfig({});
    expect(config.databaseUrl).toBeUndefined();
    expect(config.oidc).toBeUndefined();
    expect(config.publicUrl.origin).toBe("http://localhost:3000");
    expect(config.host).toBe("127.0.0.1");
    expect(config.blobStore).toMatchObject({ kind: "fs" });
    expect(config.connectTicketTtlSeconds).toBe(30);
  });

  it("treats empty values as unset", () => {
    expect(parseConfig({ PORT: "", DATABASE_URL: " " }).port).toBe(3000);
  });

  it("names the variable and the bad value in one line", () => {
    expect(problemsOf({ PUBLIC_URL: "gatehouse.local" })).toEqual([expect.stringMatching(/^PUBLIC_URL .*absolute URL.*\(got "gatehouse.local"\)$/)]);
    expect(problemsOf({ PORT: "99999" })).toEqual([expect.stringMatching(/^PORT /)]);
    expect(problemsOf({ PUBLIC_URL: "ftp://example.com" })).toEqual([expect.stringMatching(/^PUBLIC_URL must use http or https/)]);
  });

  it("never echoes a secret's value", () => {
    const [problem] = problemsOf({ DATABASE_URL: "postgres://db/gatehouse", AUTH_SECRET: "tooshort", GATEHOUSE_MASTER_KEY: "abc" });
    expect(problem).not.toContain("tooshort");
    expect(problemsOf({ DATABASE_URL: "postgres://db/gatehouse", AUTH_SECRET: "x".repeat(40), GATEHOUSE_MASTER_KEY: "abc" }).join()).not.toContain("abc");
  });

  it("requires shared secrets with an external database", () => {
    expect(problemsOf({ DATABASE_URL: "postgres://db/gatehouse" })).toEqual([
      expect.stringMatching(/^AUTH_SECRET is required when DATABASE_URL is set/),
      expect.stringMatching(/^GATEHOUSE_MASTER_KEY is required when DATABASE_URL is set/),
    ]);
  });

  it("accepts a master key as hex or base64 and rejects other lengths", () => {
    const hex = "ab".repeat(32);
    expect(parseConfig({ GATEHOUSE_MASTER_KEY: hex }).masterKey).toEqual(Buffer.from(hex, "hex"));
    const base64 = Buffer.alloc(32, 7).toString("base64");
    expect(parseConfig({ GATEHOUSE_MASTER_KEY: base64 }).masterKey).toEqual(Buffer.alloc(32, 7));
    expect(problemsOf({ GATEHOUSE_MASTER_KEY: "ab".repeat(16) })).toEqual([expect.stringMatching(/^GATEHOUSE_MASTER_KEY must be 32 bytes/)]);
  });

  it("wants all of issuer, client id and secret for SSO", () => {
    expect(problemsOf({ OIDC_ISSUER: "https://idp.example.com" })).toEqual([
      expect.stringMatching(/^OIDC_CLIENT_ID is required/),
      expect.stringMatching(/^OIDC_CLIENT_SECRET is required/),
    ]);
  });

  it("parses the group to role mapping", () => {
    const config = parseConfig({
      OIDC_ISSUER: "https://idp.example.com",
      OIDC_CLIENT_ID: "gatehouse",
      OIDC_CLIENT_SECRET: "s3cret",
      OIDC_GROUP_ROLES: "ops-admins=admin, secops=security,audit=reviewer",
    });
    expect(config.oidc?.groupRoles).toEqual([
      { group: "ops-admins", role: "admin" },
      { group: "secops", role: "security" },
      { group: "audit", role: "reviewer" },
    ]);
    expect(problemsOf({ OIDC_GROUP_ROLES: "ops=root" })).toEqual([expect.stringMatching(/^OIDC_GROUP_ROLES "ops=root" must be group=role/)]);
  });

  it("caps connect tickets at 30 seconds", () => {
    expect(problemsOf({ CONNECT_TICKET_TTL_SECONDS: "120" })).toEqual([expect.stringMatching(/^CONNECT_TICKET_TTL_SECONDS /)]);
  });

  it("needs a bucket for the S3 blob store", () => {
    expect(problemsOf({ BLOB_STORE: "s3" })).toEqual([expect.stringMatching(/^S3_BUCKET is required when BLOB_STORE=s3/)]);
  });

  it("needs a connection string and a container for the Azure blob store, and never echoes the connection string", () => {
    expect(problemsOf({ BLOB_STORE: "azure" })).toEqual([
      expect.stringMatching(/^AZURE_STORAGE_CONNECTION_STRING is required when BLOB_STORE=azure/),
      expect.stringMatching(/^AZURE_STORAGE_CONTAINER is required when BLOB_STORE=azure/),
    ]);
    expect(parseConfig({ BLOB_STORE: "azure", AZURE_STORAGE_CONNECTION_STRING: "AccountName=a;AccountKey=k", AZURE_STORAGE_CONTAINER: "rec" }).blobStore).toEqual({ kind: "azure", connectionString: "AccountName=a;AccountKey=k", container: "rec" });
  });

  it("reads SIEM sinks, and never echoes them (they hold webhook secrets)", () => {
    const problems = problemsOf({ SIEM_SINKS: '[{"name":"hook","type":"webhook","url":"https://h.example","secret":"short"}]' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain("short");
    expect(parseConfig({ SIEM_SINKS: '[{"name":"soc","type":"syslog","address":"tcp://127.0.0.1:514"}]' }).siemSinks).toEqual([{ name: "soc", type: "syslog", address: "tcp://127.0.0.1:514", format: "json", include: [], exclude: [] }]);
  });
});
