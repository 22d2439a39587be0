// The blob store the configuration asks for: a local folder, or S3 with a local spool in front of it.
import path from "node:path";
import type { Config } from "../config";
import type { BlobStore } from "./blob-store";
import { createFsBlobStore } from "./fs";
import { createS3BlobStore } from "./s3";
import { createSpoolingBlobStore } from "./spooling";

export type { BlobStore } from "./blob-store";

export function createBlobStore(config: Pick<Config, "blobStore" | "dataDir">): BlobStore {
  if (config.blobStore.kind === "fs") return createFsBlobStore(config.blobStore.dir);
  return createSpoolingBlobStore(createS3BlobStore(config.blobStore), path.join(config.dataDir, "spool"));
}
