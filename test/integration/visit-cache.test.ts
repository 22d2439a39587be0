// The web visits an app host keeps in memory, on both databases: kept between requests, and dropped when the
// database says a row behind them changed — a lock written by another node, an edited target or credential, a
// person's change — so that the next request sees it. Kept for ten minutes here: only the notices can explain a
// change seen in the test.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase } from "../fixtures/postgres-database";
import type { Actor } from "@/lib/data/audit";
import { createCredential, updateCredential } from "@/lib/data/credentials";
import { openDatabase, type DatabaseHandle } from "@/lib/data/client";
import { sessions, users } from "@/lib/data/schema";
import { targetInputSchema } from "@/lib/protocol/admin";
import { createTarget, updateTarget } from "@/lib/data/targets";
import { createVault } from "@/lib/infra/vault";
import { endWebSession } from "@/lib/data/web-sessions";
import { createVisitCache, type VisitCache } from "@/server/web/visit-cache";

const actor: Actor = { id: null, name: "test", sourceIp: "127.0.0.1" };
const vault = createVault(randomBytes(32));

/** A database, and a handle that writes to it as another node would (PGlite has one process: the same handle). */
const backends: [string, () => Promise<{ node: DatabaseHandle; otherNode: DatabaseHandle; cleanup: () => Promise<void> }>][] = [
  [
    "PostgreSQL",
    async () => {
      const database = await createScratchDatabase("gatehouse_visit_cache");
      const node = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
      const otherNode = await openDatabase({ databaseUrl: database.url, dataDir: "unused" });
      return { node, otherNode, cleanup: async () => void (await Promise.all([node.close(), otherNode.close()]), await database.drop()) };
    },
  ],
  [
    "PGlite",
    async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-pglite-"));
      const node = await openDatabase({ dataDir });
      return { node, otherNode: node, cleanup: async () => void (await node.close(), rmSync(dataDir, { recursive: true, force: true })) };
    },
  ],
];

describe.each(backends)("web visits kept in memory, on %s", (_name, open) => {
  let node: DatabaseHandle;
  let otherNode: DatabaseHandle;
  let cleanup: () => Promise<void>;
  let visits: VisitCache;
  let token: string;
  let sessionId: string;
  let targetId: string;
  let credentialId: string;
  let userId: string;

  /** The visit, once the cache keeps it (it keeps nothing until its subscription stands). */
  async function kept() {
    await expect.poll(async () => (await visits.find(token)) === (await visits.find(token)), { timeout: 10_000 }).toBe(true);
    return (await visits.find(token))!;
  }

  beforeAll(async () => {
    ({ node, otherNode, cleanup } = await open());
    const credential = await createCredential(node.db, vault, actor, { name: `app-login-${randomUUID()}`, kind: "password", username: "app-user", secret: "first secret" });
    credentialId = credential.id;
    const target = await createTarget(node.db, actor, targetInputSchema.parse({ name: `app-${randomUUID().slice(0, 8)}`, protocol: "web", internalUrl: "http://127.0.0.1:9/", credentialId, allowedUsers: ["visitor"] }));
    targetId = target.id;
    const [user] = await node.db.insert(users).values({ username: `visitor-${randomUUID().slice(0, 8)}`, source: "local" }).returning();
    userId = user!.id;
    token = randomBytes(32).toString("base64url");
    const [session] = await node.db
      .insert(sessions)
      .values({ userId, targetId, targetName: target.name, protocol: "web", node: "node-a", status: "active", appTokenHash: createHash("sha256").update(token).digest("hex") })
      .returning();
    sessionId = session!.id;
    visits = createVisitCache(node, vault, { keptMs: 600_000 });
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("keeps a visit between requests, with the target's login opened from the vault", async () => {
    const visit = await kept();
    expect(visit.visit.session.id).toBe(sessionId);
    expect(visit.login).toEqual({ header: null, username: "app-user", secret: "first secret" });
    expect(await visits.find(randomBytes(32).toString("base64url"))).toBeUndefined();
  });

  it("sees a lock written by another node at the next request", async () => {
    await kept();
    await otherNode.db.update(sessions).set({ status: "locked" }).where(eq(sessions.id, sessionId));
    await expect.poll(async () => (await visits.find(token))!.visit.session.status, { timeout: 10_000 }).toBe("locked");
    await otherNode.db.update(sessions).set({ status: "active" }).where(eq(sessions.id, sessionId));
    await expect.poll(async () => (await visits.find(token))!.visit.session.status, { timeout: 10_000 }).toBe("active");
  });

  it("sees a new secret for the target's credential, and an edited target", async () => {
    await kept();
    await updateCredential(otherNode.db, vault, actor, credentialId, { secret: "second secret" });
    await expect.poll(async () => (await visits.find(token))!.login?.secret, { timeout: 10_000 }).toBe("second secret");
    await kept();
    const edited = targetInputSchema.parse({ name: (await visits.find(token))!.visit.target.name, protocol: "web", internalUrl: "http://127.0.0.1:9/", credentialId, webAuthHeader: "X-App-Token", allowedUsers: ["visitor"] });
    await updateTarget(otherNode.db, actor, targetId, edited);
    await expect.poll(async () => (await visits.find(token))!.login?.header, { timeout: 10_000 }).toBe("X-App-Token");
  });

  it("sees a person's change, and forgets at once what this node changed itself", async () => {
    await kept();
    await otherNode.db.update(users).set({ email: "visitor@example.test" }).where(eq(users.id, userId));
    await expect.poll(async () => (await visits.find(token))!.visit.email, { timeout: 10_000 }).toBe("visitor@example.test");
    await kept();
    await node.db.update(sessions).set({ status: "locked" }).where(eq(sessions.id, sessionId));
    visits.forget(sessionId);
    expect((await visits.find(token))!.visit.session.status).toBe("locked");
    await node.db.update(sessions).set({ status: "active" }).where(eq(sessions.id, sessionId));
    visits.forget(sessionId);
  });

  it("sees a visit end, and does not keep an ended one", async () => {
    await kept();
    await endWebSession(otherNode.db, sessionId, "terminated", "ended by security");
    await expect.poll(async () => (await visits.find(token))!.visit.session.status, { timeout: 10_000 }).toBe("ended");
    const first = await visits.find(token);
    expect(await visits.find(token)).not.toBe(first);
  });
});
