// What a request on an app host needs from the database (its visit: session, target and person; and the target's
// credential), kept in memory between requests instead of queried for each one. The database says when a row
// behind a kept visit changes, whoever changed it and on whichever node (migration 0026 notifies every node):
// the visit is dropped then, so a lock, a termination, a sign-out or an edited target reaches the next request.
// Three guards for the notices that cannot say so: a visit read while a notice arrived is not kept (it may
// predate the change); everything is dropped when the subscription starts again after a lost connection; and
// nothing is kept longer than a few seconds, which bounds what a node cut off from the database can still serve.
import { createHash } from "node:crypto";
import { openCredential } from "../../lib/data/credentials";
import type { DatabaseHandle } from "../../lib/data/client";
import type { Vault } from "../../lib/infra/vault";
import { findWebSession, type WebSessionRow } from "../../lib/data/web-sessions";
import type { InjectedCredential } from "./proxy-headers";
import { log } from "../../lib/infra/log";

const changesChannel = "gatehouse_web_visit_changed";
const defaultKeptMs = 5_000;
const keptVisitsLimit = 10_000;

/** The login a web target sends the app, opened from the vault. */
export type AppLogin = InjectedCredential | null;

export interface KeptVisit {
  visit: WebSessionRow;
  login: AppLogin;
}

export function createVisitCache(database: DatabaseHandle, vault: Vault, { keptMs = defaultKeptMs } = {}) {
  const { db } = database;
  const kept = new Map<string, KeptVisit & { until: number }>();
  /** The key each kept visit is under, by session: a visit has one cookie. */
  const keyOf = new Map<string, string>();
  /** Moves on with every notice: a visit read across a change is not kept. */
  let generation = 0;
  let listening = false;

  const dropAll = () => {
    generation += 1;
    kept.clear();
    keyOf.clear();
  };
  const drop = (sessionId: string) => {
    generation += 1;
    const key = keyOf.get(sessionId);
    keyOf.delete(sessionId);
    if (key !== undefined) kept.delete(key);
  };
  // Nothing is kept until the subscription stands: before it, a change would go unheard.
  database
    .listen(
      changesChannel,
      (payload) => (payload === "*" ? dropAll() : drop(payload)),
      () => {
        listening = true;
        dropAll();
      },
    )
    .catch((error: unknown) => log.error({ err: error }, "listening for changes to web visits failed; every request reads its visit"));

  async function read(token: string): Promise<KeptVisit | undefined> {
    const visit = await findWebSession(db, token);
    if (!visit) return undefined;
    const credential = visit.target.credentialId ? await openCredential(db, vault, visit.target.credentialId) : undefined;
    return { visit, login: credential ? { header: visit.target.webAuthHeader, username: credential.username, secret: credential.secret } : null };
  }

  return {
    /** The visit a session cookie opens, or undefined: kept, or read and kept. */
    async find(token: string): Promise<KeptVisit | undefined> {
      const key = createHash("sha256").update(token).digest("hex");
      const hit = kept.get(key);
      if (hit && hit.until > performance.now()) return hit;
      if (hit) drop(hit.visit.session.id);
      const readAt = generation;
      const found = await read(token);
      // Ended visits are not kept: their cookies are refused rarely, and then once.
      if (!found || !listening || generation !== readAt || found.visit.session.status === "ended") return found;
      if (kept.size >= keptVisitsLimit) drop(kept.values().next().value!.visit.session.id);
      kept.set(key, { ...found, until: performance.now() + keptMs });
      keyOf.set(found.visit.session.id, key);
      return found;
    },

    /** A change this node made: dropped at once, without waiting for the database's notice. */
    forget: drop,
  };
}

export type VisitCache = ReturnType<typeof createVisitCache>;
