import { apiRoute } from "@/lib/api/route";
import { targetView } from "@/lib/api/views";
import { runtime } from "@/lib/runtime";
import { listReachableTargets } from "@/lib/targets";

export const GET = apiRoute({ role: "user" }, async ({ user }) => (await listReachableTargets(runtime().db, user)).map(targetView));
