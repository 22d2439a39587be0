// A person's own access requests: listed, and made.
import { apiRoute } from "@/lib/api/route";
import { createAccessRequest, findRequestFor, listOwnRequests } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/requests", ({ user }) => listOwnRequests(runtime().db, user));

export const POST = apiRoute("POST /api/requests", async ({ user, actor, body }) => {
  const created = await createAccessRequest(runtime().db, actor, user, body);
  return findRequestFor(runtime().db, user, created.id);
});
