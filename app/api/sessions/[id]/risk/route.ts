import { apiRoute } from "@/lib/api/route";
import { readRiskAnalysis } from "@/lib/data/command-policy/risk-access";
import { runtime } from "@/lib/infra/runtime";

/** A session's risk events, each with the commands around it. */
export const GET = apiRoute("GET /api/sessions/{id}/risk", async ({ user, actor, params }) => {
  const { session, events } = await readRiskAnalysis(runtime().db, user, actor, params.id!);
  return { sessionId: session.id, riskScore: session.riskScore, events };
});
