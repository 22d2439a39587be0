import { apiRoute } from "@/lib/api/route";
import { requestConnectTicket } from "@/lib/domain/connect";
import { ApiError } from "@/lib/domain/errors";
import { runtime } from "@/lib/infra/runtime";

/** A ticket for one WebSocket; with an API token, only for watching (sessions are opened in the browser). */
export const POST = apiRoute("POST /api/tickets", async ({ user, actor, body, token }) => {
  if (token && body.purpose !== "watch") throw new ApiError(403, "An API token may only ask for watch tickets; open sessions in the browser");
  return requestConnectTicket(runtime(), user, actor, body);
});
