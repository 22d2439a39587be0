import { apiRoute } from "@/lib/api/route";
import { adminTargetView } from "@/lib/api/views";
import { targetInputSchema } from "@/lib/protocol/admin";
import { runtime } from "@/lib/runtime";
import { createTarget, listTargets } from "@/lib/targets";

export const GET = apiRoute({ role: "admin" }, async () => (await listTargets(runtime().db)).map(adminTargetView));

export const POST = apiRoute({ role: "admin", body: targetInputSchema }, async ({ actor, body }) => adminTargetView(await createTarget(runtime().db, actor, body)));
