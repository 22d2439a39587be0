import { apiRoute } from "@/lib/api/route";
import { notFound } from "@/lib/domain/errors";
import { runtime } from "@/lib/infra/runtime";
import { endSessionsOfUser } from "@/lib/domain/session-control";
import { findUserById } from "@/lib/data/users";

/** Ends every live session of one person, on every node (terminals, desktops, web apps). */
export const POST = apiRoute("POST /api/admin/users/{id}/end-sessions", async ({ actor, body, params }) => {
  const user = await findUserById(runtime().db, params.id!);
  if (!user) throw notFound("User");
  return endSessionsOfUser(runtime(), actor, user.id, body.reason);
});
