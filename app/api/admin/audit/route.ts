import { apiRoute } from "@/lib/api/route";
import { listAuditEntries, verifyAuditChain } from "@/lib/audit";
import { readAuditAnchors } from "@/lib/audit-anchors";
import { runtime } from "@/lib/runtime";

/** Recent entries, newest first (`?action=` prefix, `?actor=`), with the chain's verification. Security reads the log as well as admins. */
export const GET = apiRoute({ role: ["admin", "security"] }, async ({ request }) => {
  const { db } = runtime();
  const query = new URL(request.url).searchParams;
  const filter = { action: query.get("action")?.trim().slice(0, 100) || undefined, actor: query.get("actor")?.trim().slice(0, 100) || undefined };
  return { chain: await verifyAuditChain(db, await readAuditAnchors({ blobStore: runtime().blobStore, file: runtime().config.evidence.anchorFile })), entries: await listAuditEntries(db, 200, filter) };
});
