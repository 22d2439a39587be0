// Opening a published web app: the access decision is made here, on the gateway's origin where the user is
// signed in; then a single-use ticket, bound to the state cookie the app's host gave this browser, hands the new
// web session to the app's host. A visit that starts here goes to the app's host first to get that state.
import { audit } from "@/lib/data/audit";
import { actorOf, currentUser } from "@/lib/auth/current-user";
import { clientAddress } from "@/lib/infra/request-context";
import { decideAccess } from "@/lib/data/governance/access";
import { runtime } from "@/lib/infra/runtime";
import { findWebTarget } from "@/lib/data/targets";
import { appOrigin, appPage, browserStateHashPattern, safeReturnPath, startPath } from "@/lib/domain/web-app-hosts";
import { startWebSession } from "@/lib/data/web-sessions";

const nameShape = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  const query = new URL(request.url).searchParams;
  const returnPath = safeReturnPath(query.get("return"));
  const { db, config } = runtime();
  const notAllowed = (why = `You may not open ${name}. Ask an admin for access.`) =>
    new Response(appPage("Not allowed", why, "/"), { status: 403, headers: { "content-type": "text/html; charset=utf-8" } });
  if (!nameShape.test(name)) return notAllowed();
  const state = query.get("state");
  if (!state || !browserStateHashPattern.test(state)) {
    const start = new URL(startPath, appOrigin(config, name));
    start.searchParams.set("return", returnPath);
    return Response.redirect(start, 302);
  }
  const user = await currentUser();
  if (!user) {
    const signIn = new URL("/signin", config.publicUrl);
    signIn.searchParams.set("next", `/apps/${name}?${new URLSearchParams({ return: returnPath, state })}`);
    return Response.redirect(signIn, 302);
  }
  const actor = actorOf(user, clientAddress(request.headers));
  const target = await findWebTarget(db, name);
  const decision = target ? await decideAccess(db, user, target, actor.sourceIp) : undefined;
  // An unknown app and one the person is not listed on look the same, so names cannot be probed.
  if (target && decision && !decision.allowed && decision.code === "notice_not_accepted") return Response.redirect(new URL(`/connect/${target.id}`, config.publicUrl), 302);
  if (!target || !decision?.allowed) {
    const reason = decision && !decision.allowed && decision.code !== "not_listed" ? decision : undefined;
    await audit(db, actor, { action: "connect.ticket", outcome: "refused", objectType: "target", objectId: target?.id, details: { purpose: "app", target: name, code: reason?.code, reason: reason?.reason } });
    return notAllowed(reason ? `Access refused: ${reason.reason}.` : undefined);
  }
  await audit(db, actor, { action: "connect.ticket", objectType: "target", objectId: target.id, details: { purpose: "app", target: target.name, requestId: decision.requestId, policies: decision.policies } });
  const { handoffUrl } = await startWebSession(runtime(), user.id, actor, target, decision, returnPath, state);
  return Response.redirect(handoffUrl, 302);
}
