import { apiRoute } from "@/lib/api/route";
import { exportAuditLog } from "@/lib/data/audit-reading";

/** Every entry the filters match, oldest first, as CSV or JSON Lines (`format=csv|jsonl`); the export is audited. */
export const GET = apiRoute("GET /api/admin/audit/export", async ({ actor, query: { format, ...filter } }) => {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "");
  return new Response(exportAuditLog(actor, filter, format), {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
      "content-disposition": `attachment; filename="gatehouse-audit-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
});
