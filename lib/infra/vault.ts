// Target credentials at rest: AES-256-GCM under the master key, each ciphertext bound to its credential id
// (as associated data) so a database writer cannot swap secrets between rows. Decrypted only in server memory.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const version = "v1";

export class VaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VaultError";
  }
}

export interface Vault {
  seal(credentialId: string, secret: string): string;
  open(credentialId: string, sealed: string): string;
}

export function createVault(masterKey: Buffer): Vault {
  if (masterKey.length !== 32) throw new VaultError("the master key must be 32 bytes");
  return {
    seal(credentialId, secret) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", masterKey, iv);
      cipher.setAAD(Buffer.from(credentialId));
      const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
      return `${version}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64")}`;
    },
    open(credentialId, sealed) {
      const [sealedVersion, payload] = sealed.split(":");
      if (sealedVersion !== version || !payload) throw new VaultError("unknown credential format");
      const bytes = Buffer.from(payload, "base64");
      const decipher = createDecipheriv("aes-256-gcm", masterKey, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(credentialId));
      decipher.setAuthTag(bytes.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        throw new VaultError("credential cannot be decrypted: wrong master key or tampered ciphertext");
      }
    },
  };
}
