import { apiRoute } from "@/lib/api/route";
import { targetView } from "@/lib/api/views";
import { runtime } from "@/lib/infra/runtime";
import { listReachableTargets } from "@/lib/data/targets";

/** The caller's targets, each with whether they may connect now and, if not, why and whether a request would help. */
export const GET = apiRoute("GET /api/targets", async ({ user, actor }) =>
  (await listReachableTargets(runtime().db, user, actor.sourceIp)).map(({ target, decision }) => ({
    ...targetView(target),
    access: decision.allowed
      ? { allowed: true, requestId: decision.requestId, endsAt: decision.endsAt?.toISOString() ?? null }
      : { allowed: false, code: decision.code, reason: decision.reason, requestable: decision.requestable },
  })),
);
