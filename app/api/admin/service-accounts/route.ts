import { createServiceAccount } from "@/lib/data/api-tokens";
import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";

export const POST = apiRoute("POST /api/admin/service-accounts", async ({ actor, body }) => {
  const account = await createServiceAccount(runtime().db, actor, body);
  return { id: account.id, username: account.username };
});
