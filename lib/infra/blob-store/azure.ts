// Blobs in an Azure Blob Storage container (or Azurite). Block blobs, one per key; ranges read with the service's
// own byte-range download.
import { BlobServiceClient, RestError } from "@azure/storage-blob";
import { assertValidKey, BlobNotFoundError, type BlobStore } from "./blob-store";

export interface AzureSettings {
  /** The storage account's connection string (account name and key, or a SAS, and the blob endpoint). */
  connectionString: string;
  container: string;
}

const notFound = (error: unknown) => error instanceof RestError && error.statusCode === 404;

export function createAzureBlobStore(settings: AzureSettings): BlobStore {
  // An outage is handled by spooling (spooling.ts), not by long retries here.
  const service = BlobServiceClient.fromConnectionString(settings.connectionString, { retryOptions: { maxTries: 2, tryTimeoutInMs: 30_000 } });
  const container = service.getContainerClient(settings.container);

  return {
    async put(key, body) {
      assertValidKey(key);
      await container.getBlockBlobClient(key).uploadData(body);
    },

    async get(key, range) {
      assertValidKey(key);
      try {
        const count = range?.end === undefined ? undefined : range.end - range.start + 1;
        return await container.getBlobClient(key).downloadToBuffer(range?.start ?? 0, count);
      } catch (error) {
        if (notFound(error)) throw new BlobNotFoundError(key);
        throw error;
      }
    },

    async list(prefix) {
      const keys: string[] = [];
      for await (const blob of container.listBlobsFlat({ prefix })) keys.push(blob.name);
      return keys.sort();
    },

    async delete(key) {
      assertValidKey(key);
      await container.getBlobClient(key).deleteIfExists();
    },
  };
}
