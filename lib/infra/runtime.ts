// The process-wide services (configuration, database, vault), created once by server/main.ts before any
// request is served. Next.js bundles app/ code separately from the custom server, so the instance is one per
// process (./process-global.ts): both bundles see the same database connection, never two (PGlite allows only one).
import type { AuditChainChecker } from "../data/audit";
import type { BlobStore } from "./blob-store";
import type { PolicyHolds } from "../data/command-policy/holds";
import type { RuleBook } from "../domain/command-policy/rule-book";
import type { Config } from "./config";
import type { ControlBus } from "./control-bus";
import type { Database } from "../data/client";
import { processGlobal } from "./process-global";
import type { Vault } from "./vault";
import type { JobQueue } from "./job-queue";

export interface Runtime {
  config: Config & { authSecret: string; masterKey: Buffer };
  db: Database;
  vault: Vault;
  blobStore: BlobStore;
  /** Carries security's controls to the node that runs the session. */
  controlBus: ControlBus;
  /** The command and request rules, as this node matches them. */
  ruleBook: RuleBook;
  /** Commands and requests this node holds for security's decision. */
  holds: PolicyHolds;
  /** Verifies the audit chain for the audit page, going on from the head it last verified. */
  auditChecker: AuditChainChecker;
  /** Background jobs in the database (lib/infra/job-queue.ts). */
  jobs: JobQueue;
}

const installed = processGlobal<Runtime>("runtime", "Gatehouse runtime is not started: run the gateway with `npm start` (server/main.ts), not `next start`");

export const installRuntime = installed.install;
export const runtime = installed.get;
