import { apiRoute, fieldErrors } from "@/lib/api/route";
import { exportAuditLog } from "@/lib/audit-reading";
import { ApiError } from "@/lib/errors";
import { auditExportSchema } from "@/lib/protocol/audit";

/** Every entry the filters match, oldest first, as CSV or JSON Lines (`format=csv|jsonl`); the export is audited. */
export const GET = apiRoute({ role: ["admin", "security"] }, async ({ actor, request }) => {
  const parsed = auditExportSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) throw new ApiError(400, "Some filters need attention", fieldErrors(parsed.error));
  const { format, ...filter } = parsed.data;
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "");
  return new Response(exportAuditLog(actor, filter, format), {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
      "content-disposition": `attachment; filename="gatehouse-audit-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
});
