import { apiRoute } from "@/lib/api/route";
import { userView } from "@/lib/api/views";
import { runtime } from "@/lib/infra/runtime";
import { listUsers } from "@/lib/data/users";

export const GET = apiRoute("GET /api/admin/users", async () => (await listUsers(runtime().db)).map(userView));
