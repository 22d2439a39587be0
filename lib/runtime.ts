// The process-wide services (configuration, database, vault), created once by server/main.ts before any
// request is served. Next.js bundles app/ code separately from the custom server, so the instance is kept on
// globalThis: both bundles see the same database connection, never two (PGlite allows only one).
import type { BlobStore } from "./blob-store";
import type { Config } from "./config";
import type { ControlBus } from "./control-bus";
import type { Database } from "./db/client";
import type { Vault } from "./vault";

export interface Runtime {
  config: Config & { authSecret: string; masterKey: Buffer };
  db: Database;
  vault: Vault;
  blobStore: BlobStore;
  /** Carries security's controls to the node that runs the session. */
  controlBus: ControlBus;
}

const runtimeKey = Symbol.for("gatehouse.runtime");
type RuntimeHolder = { [runtimeKey]?: Runtime };

export function installRuntime(value: Runtime): void {
  (globalThis as RuntimeHolder)[runtimeKey] = value;
}

export function runtime(): Runtime {
  const value = (globalThis as RuntimeHolder)[runtimeKey];
  if (!value) throw new Error("Gatehouse runtime is not started: run the gateway with `npm start` (server/main.ts), not `next start`");
  return value;
}
