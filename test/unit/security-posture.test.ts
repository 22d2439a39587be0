import { describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/infra/config";
import { securityWarnings } from "@/lib/infra/security-posture";

describe("security posture", () => {
  it("is quiet for the local default", () => {
    expect(securityWarnings(parseConfig({}))).toEqual([]);
  });

  it("warns about plain http on a real host name", () => {
    expect(securityWarnings(parseConfig({ PUBLIC_URL: "http://gatehouse.example.com" }))).toEqual([expect.stringMatching(/^PUBLIC_URL is http:\/\//)]);
    expect(securityWarnings(parseConfig({ PUBLIC_URL: "https://gatehouse.example.com" }))).toEqual([]);
  });

  it("warns when the embedded setup listens beyond loopback, and about trusted proxies", () => {
    expect(securityWarnings(parseConfig({ HOST: "0.0.0.0", TRUST_PROXY: "true" }))).toEqual([
      expect.stringMatching(/^HOST=0.0.0.0 exposes/),
      expect.stringMatching(/^TRUST_PROXY=1: client addresses come from X-Forwarded-For/),
    ]);
    // Naming the proxies' networks is the safe form: nothing to warn about.
    expect(securityWarnings(parseConfig({ TRUST_PROXY: "10.0.0.0/8" }))).toEqual([]);
  });
});
