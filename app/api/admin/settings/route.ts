import { apiRoute } from "@/lib/api/route";
import { gatewaySettingsSchema } from "@/lib/protocol/admin";
import { runtime } from "@/lib/runtime";
import { readSettings, updateSettings } from "@/lib/settings";

export const GET = apiRoute({ role: "admin" }, () => readSettings(runtime().db));
export const PATCH = apiRoute({ role: "admin", body: gatewaySettingsSchema }, ({ actor, body }) => updateSettings(runtime().db, actor, body));
