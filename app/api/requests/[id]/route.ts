import { apiRoute } from "@/lib/api/route";
import { findRequestFor } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";

export const GET = apiRoute("GET /api/requests/{id}", ({ user, params }) => findRequestFor(runtime().db, user, params.id!));
