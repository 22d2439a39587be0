// The gateway's export signing keys: Ed25519 key pairs derived from the evidence keys (lib/infra/evidence-keys.ts), so
// every node signs with the same key without another secret to distribute, and a rotated evidence key keeps
// its signing key for checking what it signed. Ed25519, not an HMAC: whoever checks an export needs only the
// public key, and cannot sign with it.
import { createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from "node:crypto";
import type { ChainKey, EvidenceKeys } from "./evidence-keys";
import { exportSignatureFormat, signedText, type ExportSignature, type SigningKey } from "../protocol/export-signature";

/** PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410). */
const ed25519Pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");

interface SigningPair {
  keyId: string;
  privateKey: KeyObject;
  /** Raw 32-byte public key, base64. */
  publicKey: string;
}

function signingPair(chainKey: ChainKey): SigningPair {
  const seed = Buffer.from(hkdfSync("sha256", chainKey.key, "gatehouse", "export signing v1", 32));
  const privateKey = createPrivateKey({ key: Buffer.concat([ed25519Pkcs8Prefix, seed]), format: "der", type: "pkcs8" });
  const publicKey = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32).toString("base64");
  return { keyId: chainKey.id, privateKey, publicKey };
}

export function signingKeys(keys: EvidenceKeys): SigningKey[] {
  return keys.held.map((key, index) => ({ keyId: key.id, publicKey: signingPair(key).publicKey, current: index === 0 }));
}

export function signExport(keys: EvidenceKeys, file: { sessionId: string; fileName: string; sha256: string; bytes: number }, now = new Date()): ExportSignature {
  const pair = signingPair(keys.current);
  const unsigned = { format: exportSignatureFormat, ...file, keyId: pair.keyId, signedAt: now.toISOString() } as const;
  return { ...unsigned, publicKey: pair.publicKey, signature: sign(null, Buffer.from(signedText(unsigned)), pair.privateKey).toString("base64") };
}

/** Whether the signature is the named public key's over exactly these fields. */
export function signatureHolds(signature: ExportSignature): boolean {
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(signature.publicKey, "base64")]), format: "der", type: "spki" });
    return verify(null, Buffer.from(signedText(signature)), publicKey, Buffer.from(signature.signature, "base64"));
  } catch {
    return false;
  }
}
