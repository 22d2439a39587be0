// Opens the database — PostgreSQL when DATABASE_URL is set, else the embedded PGlite in the data dir —
// and applies the SQL migrations in drizzle/ before anything else touches it.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as schema from "./schema";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  kind: "postgres" | "pglite";
  /** The `application_name` every PostgreSQL connection of this handle carries (null on the embedded database). */
  connectionName: string | null;
  /**
   * Calls `onMessage` with the payload of every NOTIFY on the channel, from any node (this one included), and
   * `onListening` each time the subscription starts, again after a lost connection (whose notices are gone).
   */
  listen(channel: string, onMessage: (payload: string) => void, onListening?: () => void): Promise<void>;
  /** Sends `payload` to every listener of the channel, on every node. */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * How a library that writes its own SQL (the job queue) reaches this database: PostgreSQL's URL (it opens its
   * own few connections), or for the embedded database, which has one connection, a function that runs SQL on it
   * (several statements at once when there are no values).
   */
  sqlAccess: { url: string } | { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };
  close(): Promise<void>;
}

/** Whether the database answers a query at all (for a node's readiness). */
export function databaseAnswers(db: Database): Promise<boolean> {
  return db.execute(sql`select 1`).then(
    () => true,
    () => false,
  );
}

const notifyOn = async (db: Database, channel: string, payload: string) => void (await db.execute(sql`select pg_notify(${channel}, ${payload})`));

const migrationLockKey = 0x67617465;
const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../drizzle");

export async function openDatabase(options: { databaseUrl?: string; dataDir: string; connectionName?: string }): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    // No JIT: the gateway's queries are short, and on large tables their estimated cost passes the thresholds
    // where PostgreSQL compiles (and optimizes) each one for longer than it then runs.
    // Named, so that the other nodes can tell whether this one still has a connection (lib/data/nodes.ts).
    const connectionName = options.connectionName ?? null;
    const client = postgres(options.databaseUrl, { max: 10, onnotice: () => {}, connection: { jit: "off", ...(connectionName ? { application_name: connectionName } : {}) } });
    const db = drizzle(client, { schema });
    // Nodes starting together migrate one after another: the others wait, then find nothing to do.
    const lock = await client.reserve();
    try {
      await lock`select pg_advisory_lock(${migrationLockKey})`;
      await migrate(db, { migrationsFolder });
    } finally {
      await lock`select pg_advisory_unlock(${migrationLockKey})`;
      lock.release();
    }
    return {
      db: db as unknown as Database,
      kind: "postgres",
      connectionName,
      // postgres.js keeps one connection for listening and re-listens after a reconnect.
      listen: async (channel, onMessage, onListening) => void (await client.listen(channel, onMessage, onListening)),
      notify: (channel, payload) => notifyOn(db as unknown as Database, channel, payload),
      sqlAccess: { url: options.databaseUrl },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { pg_trgm } = await import("@electric-sql/pglite/contrib/pg_trgm");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const directory = path.join(options.dataDir, "db");
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const client = await PGlite.create(directory, { extensions: { pg_trgm } });
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return {
    db: db as unknown as Database,
    kind: "pglite",
    connectionName: null,
    listen: async (channel, onMessage, onListening) => {
      await client.listen(channel, onMessage);
      onListening?.();
    },
    notify: (channel, payload) => notifyOn(db as unknown as Database, channel, payload),
    sqlAccess: { executeSql: async (text, values) => (values && values.length > 0 ? client.query(text, values) : { rows: (await client.exec(text)).at(-1)?.rows ?? [] }) },
    close: () => client.close(),
  };
}
