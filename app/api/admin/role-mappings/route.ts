import { apiRoute } from "@/lib/api/route";
import { runtime } from "@/lib/infra/runtime";
import { addGroupRoleMapping, listGroupRoleMappings, removeGroupRoleMapping } from "@/lib/data/users";

export const GET = apiRoute("GET /api/admin/role-mappings", () => listGroupRoleMappings(runtime().db));

export const POST = apiRoute("POST /api/admin/role-mappings", ({ actor, body }) => addGroupRoleMapping(runtime().db, actor, body));

export const DELETE = apiRoute("DELETE /api/admin/role-mappings", ({ actor, body }) => removeGroupRoleMapping(runtime().db, actor, body));
