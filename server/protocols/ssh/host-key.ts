import { createHash } from "node:crypto";

/** The fingerprint OpenSSH shows (`ssh-keygen -lf`): SHA-256 of the public key blob, base64 without padding. */
export function hostKeyFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(publicKeyBlob).digest("base64").replace(/=+$/, "")}`;
}
