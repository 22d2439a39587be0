// The blob store the configuration asks for: a local folder, or S3 or Azure Blob Storage with a local spool in front.
import path from "node:path";
import type { Config } from "../config";
import type { BlobStore } from "./blob-store";
import { createAzureBlobStore } from "./azure";
import { createFsBlobStore } from "./fs";
import { createS3BlobStore } from "./s3";
import { createSpoolingBlobStore } from "./spooling";

export type { BlobStore } from "./blob-store";

export function createBlobStore(config: Pick<Config, "blobStore" | "dataDir">): BlobStore {
  if (config.blobStore.kind === "fs") return createFsBlobStore(config.blobStore.dir);
  const remote = config.blobStore.kind === "s3" ? createS3BlobStore(config.blobStore) : createAzureBlobStore(config.blobStore);
  return createSpoolingBlobStore(remote, path.join(config.dataDir, "spool"));
}
