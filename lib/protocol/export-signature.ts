// A recording export's detached signature: the file's SHA-256 and size, signed (Ed25519) with a key of the
// gateway's. Anyone with the gateway's public key can check an export years later, without the gateway.
import { z } from "zod";

export const exportSignatureFormat = "gatehouse-export-signature/1";

export const exportSignatureSchema = z.object({
  format: z.literal(exportSignatureFormat),
  sessionId: z.uuid(),
  /** The file's name as the gateway gave it. */
  fileName: z.string().max(200),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  /** Which of the gateway's signing keys; `publicKey` is that key (raw Ed25519, base64). */
  keyId: z.string().max(64),
  publicKey: z.string().max(100),
  signedAt: z.string(),
  signature: z.string().max(200),
});
export type ExportSignature = z.infer<typeof exportSignatureSchema>;

/** Exactly what the signature covers: every field but the signature and the key, one per line. */
export const signedText = (signature: Omit<ExportSignature, "signature" | "publicKey">) =>
  [signature.format, signature.sessionId, signature.fileName, signature.sha256, signature.bytes, signature.keyId, signature.signedAt].join("\n");

export const signingKeySchema = z.object({ keyId: z.string(), publicKey: z.string(), current: z.boolean() });
export type SigningKey = z.infer<typeof signingKeySchema>;
