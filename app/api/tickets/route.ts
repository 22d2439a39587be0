import { apiRoute } from "@/lib/api/route";
import { requestConnectTicket } from "@/lib/connect";
import { ticketRequestSchema } from "@/lib/protocol/tickets";
import { runtime } from "@/lib/runtime";

export const POST = apiRoute({ role: "user", body: ticketRequestSchema }, ({ user, actor, body }) => requestConnectTicket(runtime(), user, actor, body));
