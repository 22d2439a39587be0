// One interface for where recordings live. Adapters: fs.ts (default, a local folder), s3.ts (any S3-compatible
// service) and azure.ts (Azure Blob Storage); spooling.ts wraps a remote one so that an outage never loses a write.

export interface ByteRange {
  /** First byte, 0-based. */
  start: number;
  /** Last byte, inclusive; omitted means to the end. */
  end?: number;
}

export interface BlobStore {
  put(key: string, body: Buffer): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /** Keys under a prefix, in lexical order. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no blob at ${key}`);
    this.name = "BlobNotFoundError";
  }
}

/** Keys are paths of safe segments: no traversal, no absolute paths, nothing a filesystem or S3 treats specially. */
export function assertValidKey(key: string): void {
  if (!/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/i.test(key) || key.split("/").includes("..")) {
    throw new Error(`invalid blob key: ${JSON.stringify(key)}`);
  }
}
