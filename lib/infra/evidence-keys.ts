// The keys that protect evidence from someone who can write the database: audit rows and recording chunks
// are chained with HMACs under a key the database never holds — AUDIT_KEY, or one derived from
// GATEHOUSE_MASTER_KEY. Rows carry the id of the key they were signed with, so a key can be rotated: new rows
// use the current key, older ones verify with the keys rotated out (AUDIT_KEYS_PREVIOUS). Recordings are also
// encrypted, each under a data key of its own that a key derived from the master key seals.
// Like the runtime, the keys are one per process (./process-global.ts): the Next.js bundle and the custom server
// must sign with the same keys.
import { createHash, createHmac, hkdfSync } from "node:crypto";
import { processGlobal } from "./process-global";

export interface ChainKey {
  id: string;
  key: Buffer;
}

export interface EvidenceKeys {
  /** Signs every new audit row and recording chunk. */
  current: ChainKey;
  /** The key a row names by id: the current one, or one rotated out; undefined for a key not held. */
  byId(id: string): Buffer | undefined;
  /** Every key held, the current one first. */
  held: ChainKey[];
  /** Seals each recording's data key (lib/infra/recording-cipher.ts). */
  recordingKeySeal: Buffer;
}

const chainKeyId = (key: Buffer) => createHash("sha256").update("gatehouse evidence key").update(key).digest("hex").slice(0, 16);

/** The chain key derived from the master key when no AUDIT_KEY is set. */
export function derivedEvidenceKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey, "gatehouse", "evidence chains v1", 32));
}

/** The keys for a master key, a chain key (by default derived from the master key) and the chain keys rotated out. */
export function createEvidenceKeys(options: { masterKey: Buffer; chainKey?: Buffer; previous?: Buffer[] }): EvidenceKeys {
  const current = options.chainKey ?? derivedEvidenceKey(options.masterKey);
  const keys = new Map([current, ...(options.previous ?? [])].map((key) => [chainKeyId(key), key]));
  return {
    current: { id: chainKeyId(current), key: current },
    byId: (id) => keys.get(id),
    held: [...keys].map(([id, key]) => ({ id, key })),
    recordingKeySeal: Buffer.from(hkdfSync("sha256", options.masterKey, "gatehouse", "recording data keys v1", 32)),
  };
}

/** An HMAC-SHA256 in hex over the parts, each on its own line, under a purpose that keeps chains apart. */
export function evidenceMac(key: Buffer, purpose: "audit" | "chunk", parts: (string | number | boolean)[]): string {
  const mac = createHmac("sha256", key).update(purpose);
  for (const part of parts) mac.update("\n").update(String(part));
  return mac.digest("hex");
}

const installed = processGlobal<EvidenceKeys>("evidence-keys", "the evidence keys are not installed: the gateway installs them at start (server/start-runtime.ts)");

export const installEvidenceKeys = installed.install;
export const evidenceKeys = installed.get;
