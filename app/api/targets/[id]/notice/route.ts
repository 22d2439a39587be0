import { apiRoute } from "@/lib/api/route";
import { notFound } from "@/lib/domain/errors";
import { decideAccess } from "@/lib/data/governance/access";
import { acceptNotice } from "@/lib/data/governance/notice";
import { runtime } from "@/lib/infra/runtime";
import { findTarget } from "@/lib/data/targets";

/** The person accepts the logon notice for a target they may otherwise reach. */
export const POST = apiRoute("POST /api/targets/{id}/notice", async ({ user, actor, params }) => {
  const { db } = runtime();
  const target = await findTarget(db, params.id!);
  const decision = target ? await decideAccess(db, user, target, actor.sourceIp) : undefined;
  if (!target || !decision || (!decision.allowed && decision.code === "not_listed")) throw notFound("Target");
  await acceptNotice(db, actor, user.id, target);
});
