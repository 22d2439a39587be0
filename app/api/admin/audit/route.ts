import { apiRoute } from "@/lib/api/route";
import { readAuditLog } from "@/lib/data/audit-reading";

/**
 * A page of entries, newest first, filtered (`action` prefix, `actor`, `objectType`, `objectId`, `outcome`, `from`,
 * `to`), older than `before`; with the chain's verification (`verify=whole` walks all of it now). Security reads
 * the log as well as admins.
 */
export const GET = apiRoute("GET /api/admin/audit", async ({ query: { before, verify, ...filter } }) => {
  return readAuditLog(filter, before, { wholeChain: verify === "whole" });
});
