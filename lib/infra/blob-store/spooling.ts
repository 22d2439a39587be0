// Puts that the remote store cannot take right now are written to a local spool folder and uploaded in
// order when it is back; a restarted process picks up the spool where the last one stopped. Reads of
// spooled blobs are served from the spool, so nothing is missing while the remote is away.
import { mkdirSync } from "node:fs";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { assertValidKey, type BlobStore } from "./blob-store";
import { log } from "../log";

export interface SpoolingBlobStore extends BlobStore {
  /** Blobs waiting for the remote store. */
  readonly pending: number;
  /** Resolves once the spool is empty. */
  drained(): Promise<void>;
  /** Stops uploading; whatever is spooled stays for the next process. */
  close(): void;
}

const retryDelaysMs = [250, 500, 1000, 2000, 5000];

export function createSpoolingBlobStore(remote: BlobStore, spoolDir: string, onProblem: (message: string) => void = (message) => log.warn(message)): SpoolingBlobStore {
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  const queue: { key: string; file: string }[] = [];
  const spooled = new Map<string, string>();
  let sequence = 0;
  let uploading: Promise<void> | null = null;
  let closed = false;
  let waiters: (() => void)[] = [];

  const fileName = (key: string) => `${String(++sequence).padStart(12, "0")}-${key.replaceAll("/", "~")}`;

  const ready = (async () => {
    const leftovers = (await readdir(spoolDir)).filter((name) => /^\d{12}-/.test(name)).sort();
    for (const name of leftovers) {
      const key = name.slice(13).replaceAll("~", "/");
      queue.push({ key, file: path.join(spoolDir, name) });
      spooled.set(key, path.join(spoolDir, name));
      sequence = Math.max(sequence, Number(name.slice(0, 12)));
    }
    if (queue.length > 0) startUploading();
  })();

  function startUploading() {
    if (uploading || closed) return;
    uploading = (async () => {
      let attempt = 0;
      while (queue.length > 0 && !closed) {
        const next = queue[0]!;
        try {
          await remote.put(next.key, await readFile(next.file));
          queue.shift();
          spooled.delete(next.key);
          await rm(next.file, { force: true });
          attempt = 0;
        } catch (error) {
          if (attempt === 0) onProblem(`blob store unavailable, ${queue.length} blob(s) spooled: ${(error as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[Math.min(attempt++, retryDelaysMs.length - 1)]));
        }
      }
      uploading = null;
      if (queue.length === 0) {
        for (const wake of waiters) wake();
        waiters = [];
      }
    })();
  }

  async function spool(key: string, body: Buffer) {
    const file = path.join(spoolDir, fileName(key));
    await writeFile(`${file}.partial`, body, { mode: 0o600 });
    await rename(`${file}.partial`, file);
    queue.push({ key, file });
    spooled.set(key, file);
    startUploading();
  }

  return {
    get pending() {
      return queue.length;
    },

    async put(key, body) {
      assertValidKey(key);
      await ready;
      // Once anything is spooled, later blobs queue behind it, so the remote receives them in order.
      if (queue.length > 0) return spool(key, body);
      try {
        await remote.put(key, body);
      } catch (error) {
        onProblem(`blob store unavailable, spooling ${key}: ${(error as Error).message}`);
        await spool(key, body);
      }
    },

    async get(key, range) {
      await ready;
      const file = spooled.get(key);
      if (!file) return remote.get(key, range);
      const body = await readFile(file);
      return range ? body.subarray(range.start, range.end === undefined ? undefined : range.end + 1) : body;
    },

    async list(prefix) {
      await ready;
      const remoteKeys = await remote.list(prefix);
      return [...new Set([...remoteKeys, ...[...spooled.keys()].filter((key) => key.startsWith(prefix))])].sort();
    },

    async delete(key) {
      await ready;
      const file = spooled.get(key);
      if (file) {
        spooled.delete(key);
        const index = queue.findIndex((entry) => entry.key === key);
        if (index >= 0) queue.splice(index, 1);
        await rm(file, { force: true });
      }
      await remote.delete(key);
    },

    async drained() {
      await ready;
      if (queue.length === 0) return;
      await new Promise<void>((resolve) => waiters.push(resolve));
    },

    close() {
      closed = true;
    },
  };
}
