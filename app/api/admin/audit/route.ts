import { apiRoute, fieldErrors } from "@/lib/api/route";
import { readAuditLog } from "@/lib/audit-reading";
import { ApiError } from "@/lib/errors";
import { auditPageSchema } from "@/lib/protocol/audit";

/**
 * A page of entries, newest first, filtered (`action` prefix, `actor`, `objectType`, `objectId`, `outcome`, `from`,
 * `to`), older than `before`; with the chain's verification (`verify=whole` walks all of it now). Security reads
 * the log as well as admins.
 */
export const GET = apiRoute({ role: ["admin", "security"] }, async ({ request }) => {
  const query = new URL(request.url).searchParams;
  const parsed = auditPageSchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) throw new ApiError(400, "Some filters need attention", fieldErrors(parsed.error));
  const { before, ...filter } = parsed.data;
  return readAuditLog(filter, before, { wholeChain: query.get("verify") === "whole" });
});
