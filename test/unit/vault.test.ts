import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createVault, VaultError } from "@/lib/infra/vault";

describe("credential vault", () => {
  const vault = createVault(randomBytes(32));

  it("round-trips a secret and never stores it in the clear", () => {
    const sealed = vault.seal("cred-1", "correct horse battery staple");
    expect(sealed).not.toContain("correct horse");
    expect(Buffer.from(sealed.slice(3), "base64").toString("latin1")).not.toContain("correct horse");
    expect(vault.open("cred-1", sealed)).toBe("correct horse battery staple");
  });

  it("uses a fresh nonce each time", () => {
    expect(vault.seal("cred-1", "same")).not.toBe(vault.seal("cred-1", "same"));
  });

  it("refuses a ciphertext moved to another credential", () => {
    const sealed = vault.seal("cred-1", "secret");
    expect(() => vault.open("cred-2", sealed)).toThrow(VaultError);
  });

  it("refuses a tampered ciphertext or another master key", () => {
    const sealed = vault.seal("cred-1", "secret");
    const bytes = Buffer.from(sealed.slice(3), "base64");
    bytes[bytes.length - 1]! ^= 1;
    expect(() => vault.open("cred-1", `v1:${bytes.toString("base64")}`)).toThrow(VaultError);
    expect(() => createVault(randomBytes(32)).open("cred-1", sealed)).toThrow(/wrong master key or tampered/);
  });
});
