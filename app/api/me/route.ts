import { findApiToken } from "@/lib/data/api-tokens";
import { apiRoute } from "@/lib/api/route";
import type { Caller } from "@/lib/protocol/api-tokens";
import { runtime } from "@/lib/infra/runtime";

/** Who the caller is: what `gatehouse login` checks a token with. */
export const GET = apiRoute("GET /api/me", async ({ user, token }): Promise<Caller> => {
  const row = token ? await findApiToken(runtime().db, token.id) : null;
  return {
    id: user.id,
    username: user.username,
    roles: user.roles,
    token: row ? { id: row.id, name: row.name, scopes: row.scopes, expiresAt: row.expiresAt.toISOString() } : null,
  };
});
