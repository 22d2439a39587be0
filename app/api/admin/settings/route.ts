import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";
import { readSettings, updateSettings } from "@/lib/data/settings";

export const GET = apiRoute("GET /api/admin/settings", () => readSettings(runtime().db));
export const PATCH = apiRoute("PATCH /api/admin/settings", ({ actor, body }) => updateSettings(runtime().db, actor, body));
