import { apiRoute } from "@/lib/api/route";
import { listAuditEntries, verifyAuditChain } from "@/lib/audit";
import { runtime } from "@/lib/runtime";

/** Recent entries, newest first, with the chain's verification. Security reads the log as well as admins. */
export const GET = apiRoute({ role: ["admin", "security"] }, async () => {
  const { db } = runtime();
  return { chain: await verifyAuditChain(db), entries: await listAuditEntries(db, 200) };
});
