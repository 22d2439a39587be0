// The blob store contract on every adapter (a folder; a real S3-compatible server; Azurite for Azure Blob
// Storage), and the spool that keeps recordings safe through an outage of either remote and an uploader crash.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobNotFoundError, type BlobStore } from "@/lib/infra/blob-store/blob-store";
import { createFsBlobStore } from "@/lib/infra/blob-store/fs";
import { createAzureBlobStore } from "@/lib/infra/blob-store/azure";
import { createS3BlobStore } from "@/lib/infra/blob-store/s3";
import { createSpoolingBlobStore } from "@/lib/infra/blob-store/spooling";
import { startAzurite, type RunningAzurite } from "../fixtures/azurite";
import { startS3Server, type RunningS3 } from "../fixtures/s3-server";

let s3: RunningS3;
let azurite: RunningAzurite;
const folders: string[] = [];
const folder = () => {
  const created = mkdtempSync(path.join(tmpdir(), "gatehouse-blobs-"));
  folders.push(created);
  return created;
};

beforeAll(async () => {
  [s3, azurite] = await Promise.all([startS3Server(), startAzurite()]);
}, 60_000);
afterAll(async () => {
  await s3?.remove();
  await azurite?.remove();
  for (const created of folders) rmSync(created, { recursive: true, force: true });
});

describe("filesystem blob store", () => {
  it("still stores a blob whose folder was removed behind its back after an earlier put there", async () => {
    const root = folder();
    const store = createFsBlobStore(root);
    await store.put("rec/one/0001.gz", Buffer.from("first"));
    rmSync(path.join(root, "rec", "one"), { recursive: true });
    await store.put("rec/one/0002.gz", Buffer.from("second"));
    expect((await store.get("rec/one/0002.gz")).toString()).toBe("second");
    expect(readdirSync(path.join(root, "rec", "one"))).toEqual(["0002.gz"]);
  });
});

describe.each([
  ["filesystem", () => createFsBlobStore(folder())],
  ["S3", () => createS3BlobStore(s3.settings)],
  ["Azure", () => createAzureBlobStore(azurite.settings)],
] as [string, () => BlobStore][])("%s blob store", (_name, create) => {
  let store: BlobStore;
  beforeAll(() => {
    store = create();
  });

  it("puts, gets whole and by byte range, lists by prefix, deletes", async () => {
    const prefix = `contract-${Date.now()}`;
    await store.put(`${prefix}/a/0001.gz`, Buffer.from("0123456789"));
    await store.put(`${prefix}/a/0002.gz`, Buffer.from("abcdef"));
    await store.put(`${prefix}/b/0001.gz`, Buffer.from("other"));
    expect((await store.get(`${prefix}/a/0001.gz`)).toString()).toBe("0123456789");
    expect((await store.get(`${prefix}/a/0001.gz`, { start: 2, end: 4 })).toString()).toBe("234");
    expect((await store.get(`${prefix}/a/0001.gz`, { start: 7 })).toString()).toBe("789");
    expect(await store.list(`${prefix}/a/`)).toEqual([`${prefix}/a/0001.gz`, `${prefix}/a/0002.gz`]);
    await store.delete(`${prefix}/a/0001.gz`);
    expect(await store.list(`${prefix}/a/`)).toEqual([`${prefix}/a/0002.gz`]);
    await expect(store.get(`${prefix}/a/0001.gz`)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it("refuses keys that could escape or confuse the store", async () => {
    for (const key of ["../etc/passwd", "/absolute", "a//b", "a/../b", "a b", ""]) {
      await expect(store.put(key, Buffer.from("x")), key).rejects.toThrow(/invalid blob key/);
    }
  });
});

describe.each([
  ["S3", () => createS3BlobStore(s3.settings), () => s3],
  ["Azure", () => createAzureBlobStore(azurite.settings), () => azurite],
] as [string, () => BlobStore, () => { stop(): Promise<void>; start(): Promise<void> }][])("spooling in front of %s", (_name, createRemote, server) => {
  it("takes every write during an outage and uploads them in order when the remote is back", async () => {
    const uploaded: string[] = [];
    const remote = createRemote();
    const watched: BlobStore = { ...remote, put: async (key, body) => (await remote.put(key, body), void uploaded.push(key)) };
    const spoolDir = folder();
    const store = createSpoolingBlobStore(watched, spoolDir, () => {});
    const keys = Array.from({ length: 12 }, (_, index) => `outage/session/${String(index).padStart(4, "0")}.gz`);

    await store.put(keys[0]!, Buffer.from("chunk 0"));
    await server().stop();
    for (const key of keys.slice(1, 8)) await store.put(key, Buffer.from(`chunk ${key}`));
    expect(store.pending).toBe(7);
    expect((await store.get(keys[5]!)).toString()).toBe(`chunk ${keys[5]}`);
    await server().start();
    for (const key of keys.slice(8)) await store.put(key, Buffer.from(`chunk ${key}`));
    await store.drained();

    expect(uploaded).toEqual(keys);
    expect(await remote.list("outage/session/")).toEqual(keys);
    expect((await remote.get(keys[7]!)).toString()).toBe(`chunk ${keys[7]}`);
    expect(readdirSync(spoolDir)).toEqual([]);
    store.close();
  });

  it("a new process finishes the uploads of one that died mid-outage", async () => {
    const remote = createRemote();
    const spoolDir = folder();
    await server().stop();
    const dying = createSpoolingBlobStore(remote, spoolDir, () => {});
    const keys = Array.from({ length: 5 }, (_, index) => `crash/session/${index}.gz`);
    for (const key of keys) await dying.put(key, Buffer.from(key));
    dying.close();

    await server().start();
    const successor = createSpoolingBlobStore(remote, spoolDir, () => {});
    await successor.drained();
    expect(await remote.list("crash/session/")).toEqual(keys);
    successor.close();
  });
});
