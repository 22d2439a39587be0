// Recordings at rest: every chunk and keyframe of a recording is encrypted (AES-256-GCM) under a data key of
// its own, itself sealed (AES-256-GCM) with a key derived from the master key and kept in recording_keys. A blob
// is bound to where it lives (its blob key is the associated data): swapped, moved or edited, it does not open.
// Whoever holds the blob store alone holds ciphertext; the retention purge deletes the data key with the blobs.
// Recordings made before encryption (plain gzip) still open.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import type { Database } from "../data/client";
import { deleteRecordingKey, findSealedRecordingKey, storeSealedRecordingKey } from "../data/recording-keys";
import { evidenceKeys } from "./evidence-keys";

const magic = Buffer.from("GHE1");
const gzipMagic = Buffer.from([0x1f, 0x8b]);
/** Data keys kept in memory for readers and writers, at most. */
const cachedKeys = 1000;

export class RecordingKeyError extends Error {}

export interface RecordingCipher {
  /** The stored form of a blob (gzip) that will live at `blobKey`. */
  seal(blobKey: string, plain: Buffer): Buffer;
  /** The gzip of a stored blob; throws RecordingKeyError when it does not open. */
  open(blobKey: string, stored: Buffer): Buffer;
}

function gcmSeal(key: Buffer | KeyObject, associated: string, plain: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(associated));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function gcmOpen(key: Buffer | KeyObject, associated: string, sealed: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(associated));
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
}

/**
 * Kept as key objects, whose bytes live outside the JavaScript heap on their own: a 32-byte Buffer is a slice of
 * Node's shared 8 KiB pool and would hold the whole slab for as long as it is cached.
 */
const keyCache = new Map<string, KeyObject>();

function remember(sessionId: string, key: KeyObject) {
  if (keyCache.size >= cachedKeys) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(sessionId, key);
}

function cipherWith(key: KeyObject | null, sessionId: string): RecordingCipher {
  return {
    seal(blobKey, plain) {
      if (!key) throw new RecordingKeyError(`recording ${sessionId} has no data key`);
      return Buffer.concat([magic, gcmSeal(key, blobKey, plain)]);
    },
    open(blobKey, stored) {
      if (stored.subarray(0, 2).equals(gzipMagic)) return stored;
      if (!stored.subarray(0, 4).equals(magic)) throw new RecordingKeyError(`${blobKey} is neither an encrypted nor a plain recording blob`);
      if (!key) throw new RecordingKeyError(`recording ${sessionId} has no data key (purged, or never stored here)`);
      try {
        return gcmOpen(key, blobKey, stored.subarray(4));
      } catch {
        throw new RecordingKeyError(`${blobKey} does not open with its recording's key: altered, or moved from elsewhere`);
      }
    },
  };
}

/**
 * The cipher of a recording: with `create`, its data key is made on first use (once, whichever node gets there
 * first); without, a recording that has none opens only its plain blobs.
 */
export async function recordingCipher(db: Database, sessionId: string, options: { create: boolean }): Promise<RecordingCipher> {
  const cached = keyCache.get(sessionId);
  if (cached) return cipherWith(cached, sessionId);
  const { recordingKeySeal } = evidenceKeys();
  let sealedKey = await findSealedRecordingKey(db, sessionId);
  if (!sealedKey && options.create) {
    await storeSealedRecordingKey(db, sessionId, gcmSeal(recordingKeySeal, `recording:${sessionId}`, randomBytes(32)).toString("base64"));
    sealedKey = await findSealedRecordingKey(db, sessionId);
  }
  if (!sealedKey) return cipherWith(null, sessionId);
  let key: KeyObject;
  try {
    key = createSecretKey(gcmOpen(recordingKeySeal, `recording:${sessionId}`, Buffer.from(sealedKey, "base64")));
  } catch {
    throw new RecordingKeyError(`the data key of recording ${sessionId} does not open: another master key, or altered`);
  }
  remember(sessionId, key);
  return cipherWith(key, sessionId);
}

/** The recording's data key is gone (purged): its blobs, wherever copied, no longer open. */
export async function forgetRecordingKey(db: Database, sessionId: string) {
  keyCache.delete(sessionId);
  await deleteRecordingKey(db, sessionId);
}
