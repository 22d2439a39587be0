// Brings up the process-wide services in order: configuration, secrets, database (migrated), vault, and
// the first-start setup of the embedded admin.
import { audit, AuditChainChecker, systemActor } from "../lib/data/audit";
import { createBlobStore } from "../lib/infra/blob-store";
import { PolicyHolds } from "../lib/data/command-policy/holds";
import { RuleBook } from "../lib/domain/command-policy/rule-book";
import type { Config } from "../lib/infra/config";
import { createControlBus } from "../lib/infra/control-bus";
import { openDatabase, type DatabaseHandle } from "../lib/data/client";
import { resolveSecrets } from "../lib/infra/embedded-secrets";
import { createEvidenceKeys, derivedEvidenceKey, installEvidenceKeys } from "../lib/infra/evidence-keys";
import { startJobQueue } from "../lib/infra/job-queue";
import { installRuntime, type Runtime } from "../lib/infra/runtime";
import { nodeConnectionName } from "../lib/data/nodes";
import { markInterruptedSessions } from "../lib/data/sessions";
import { prepareLocalAdmin, seedGroupRoleMappings } from "../lib/data/users";
import { createVault } from "../lib/infra/vault";

export interface StartedRuntime {
  runtime: Runtime;
  database: DatabaseHandle;
  /** Set when the embedded admin still needs a password: print it once, where the operator sees it. */
  setupUrl: URL | null;
}

export async function startRuntime(config: Config): Promise<StartedRuntime> {
  const secrets = resolveSecrets(config);
  // Before anything is audited: the keys the evidence chains are signed with.
  const { masterKey } = secrets;
  const previous = config.evidence.previous.map((key) => (key === "derived" ? derivedEvidenceKey(masterKey) : key));
  installEvidenceKeys(createEvidenceKeys({ masterKey, chainKey: config.evidence.key, previous }));
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, connectionName: nodeConnectionName(config.nodeName) });
  const controlBus = await createControlBus(database, config.nodeName);
  const ruleBook = await RuleBook.open(database);
  const jobs = await startJobQueue(database);
  const runtime: Runtime = {
    config: { ...config, ...secrets },
    db: database.db,
    vault: createVault(secrets.masterKey),
    blobStore: createBlobStore(config),
    controlBus,
    ruleBook,
    holds: new PolicyHolds(database.db, config.nodeName),
    auditChecker: new AuditChainChecker(),
    jobs,
  };
  installRuntime(runtime);

  // Sessions this node carried when it last stopped without ending them (a crash, kill -9) are over.
  const interrupted = await markInterruptedSessions(database.db, config.nodeName);
  await audit(database.db, systemActor, { action: "node.start", objectType: "node", objectId: config.nodeName, details: { database: database.kind, interruptedSessions: interrupted } });
  let setupUrl: URL | null = null;
  if (config.oidc) {
    await seedGroupRoleMappings(database.db, config.oidc.groupRoles);
  } else {
    const { setupToken } = await prepareLocalAdmin(database.db);
    if (setupToken) setupUrl = new URL(`/setup?token=${setupToken}`, config.publicUrl);
  }
  return { runtime, database, setupUrl };
}
