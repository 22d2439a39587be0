import { apiRoute } from "@/lib/api/route";
import { openHolds } from "@/lib/data/command-policy/holds";
import { runtime } from "@/lib/infra/runtime";

/** What the command policy holds in a session now, waiting for security. */
export const GET = apiRoute("GET /api/sessions/{id}/holds", ({ params }) => openHolds(runtime().db, params.id!));
