import { apiRoute } from "@/lib/api/route";
import { evidenceKeys } from "@/lib/infra/evidence-keys";
import { signingKeys } from "@/lib/infra/export-signing";

/** The public keys exports are signed with: the current one, and those rotated out that older exports name. */
export const GET = apiRoute("GET /api/recordings/signing-keys", async () => signingKeys(evidenceKeys()));
