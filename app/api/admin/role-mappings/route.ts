import { apiRoute } from "@/lib/api/route";
import { groupRoleMappingSchema } from "@/lib/protocol/admin";
import { runtime } from "@/lib/runtime";
import { addGroupRoleMapping, listGroupRoleMappings, removeGroupRoleMapping } from "@/lib/users";

export const GET = apiRoute({ role: "admin" }, () => listGroupRoleMappings(runtime().db));

export const POST = apiRoute({ role: "admin", body: groupRoleMappingSchema }, ({ actor, body }) => addGroupRoleMapping(runtime().db, actor, body));

export const DELETE = apiRoute({ role: "admin", body: groupRoleMappingSchema }, ({ actor, body }) => removeGroupRoleMapping(runtime().db, actor, body));
