// Blobs as files under one folder. Writes go to a temporary file that is then renamed into place, so a
// crashed process leaves either the whole blob or none of it. There is no fsync per blob: a process crash
// loses nothing (the kernel has the data); only a power loss can take the last seconds, which is the
// trade-off that keeps a chunk a second per session cheap.
import { mkdir, open, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { assertValidKey, BlobNotFoundError, type BlobStore, type ByteRange } from "./blob-store";

/** Folders known to exist, so that a recording's every chunk does not ask for its folder again (bounded). */
const knownFoldersLimit = 10_000;

export function createFsBlobStore(root: string): BlobStore {
  const fileOf = (key: string) => {
    assertValidKey(key);
    return path.join(root, ...key.split("/"));
  };
  const knownFolders = new Set<string>();
  const ensureFolder = async (folder: string) => {
    if (knownFolders.has(folder)) return;
    await mkdir(folder, { recursive: true });
    if (knownFolders.size >= knownFoldersLimit) knownFolders.clear();
    knownFolders.add(folder);
  };

  return {
    async put(key, body) {
      const file = fileOf(key);
      await ensureFolder(path.dirname(file));
      const temporary = `${file}.${process.pid}.${Date.now()}.partial`;
      await writeFile(temporary, body, { mode: 0o600 }).catch(async (error: NodeJS.ErrnoException) => {
        // The folder went away (removed from outside the gateway): make it again, once.
        if (error.code !== "ENOENT") throw error;
        knownFolders.delete(path.dirname(file));
        await ensureFolder(path.dirname(file));
        await writeFile(temporary, body, { mode: 0o600 });
      });
      await rename(temporary, file);
    },

    async get(key, range?: ByteRange) {
      const file = fileOf(key);
      const handle = await open(file, "r").catch((error: NodeJS.ErrnoException) => {
        throw error.code === "ENOENT" ? new BlobNotFoundError(key) : error;
      });
      try {
        const { size } = await handle.stat();
        const start = Math.min(range?.start ?? 0, size);
        const end = Math.min(range?.end ?? size - 1, size - 1);
        const length = Math.max(0, end - start + 1);
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, start);
        return buffer;
      } finally {
        await handle.close();
      }
    },

    async list(prefix) {
      const keys: string[] = [];
      const walk = async (directory: string, keyPrefix: string): Promise<void> => {
        const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
        for (const entry of entries) {
          const key = keyPrefix ? `${keyPrefix}/${entry.name}` : entry.name;
          if (entry.isDirectory()) await walk(path.join(directory, entry.name), key);
          else if (!entry.name.endsWith(".partial") && key.startsWith(prefix)) keys.push(key);
        }
      };
      await walk(root, "");
      return keys.sort();
    },

    async delete(key) {
      const file = fileOf(key);
      if (!(await stat(file).catch(() => null))) return;
      await rm(file);
    },
  };
}
