import { apiRoute } from "@/lib/api/route";
import { checkOutPassword } from "@/lib/data/governance/checkout";
import { runtime } from "@/lib/infra/runtime";

/** The target's password, for a person whose approved request and policies allow it; audited. */
export const POST = apiRoute("POST /api/targets/{id}/checkout", ({ user, actor, params }) => checkOutPassword(runtime(), actor, user, params.id!));
