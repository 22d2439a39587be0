// Background work that outlives a request (rendering a video), queued in the gateway's own database with pg-boss:
// any node may take a job, a node that dies mid-job has it retried elsewhere, and nothing else is needed to run.
import PgBoss from "pg-boss";
import type { DatabaseHandle } from "../data/client";
import { log } from "./log";

export const jobNames = { videoExport: "video-export" } as const;

export type JobQueue = Pick<PgBoss, "send" | "work" | "stop">;

export async function startJobQueue(database: DatabaseHandle): Promise<JobQueue> {
  const access = database.sqlAccess;
  const boss = new PgBoss({ ...("url" in access ? { connectionString: access.url, max: 3 } : { db: access }), schema: "pgboss" });
  boss.on("error", (error) => log.error({ err: error }, "the job queue failed"));
  await boss.start();
  for (const name of Object.values(jobNames)) {
    if (!(await boss.getQueue(name))) await boss.createQueue(name, { name, retryLimit: 1, expireInSeconds: 6 * 60 * 60 });
  }
  return boss;
}
