// Opening a published web app: the access decision is made here, on the gateway's origin where the user is
// signed in; then a single-use ticket, bound to the state cookie the app's host gave this browser, hands the new
// web session to the app's host. A visit that starts here goes to the app's host first to get that state.
import { and, eq } from "drizzle-orm";
import { audit } from "@/lib/audit";
import { actorOf, currentUser } from "@/lib/auth/current-user";
import { targets } from "@/lib/db/schema";
import { clientAddress } from "@/lib/request-context";
import { mayReach } from "@/lib/revocations";
import { runtime } from "@/lib/runtime";
import { appOrigin, appPage, browserStateHashPattern, safeReturnPath, startPath, startWebSession } from "@/lib/web-apps";

const nameShape = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  const query = new URL(request.url).searchParams;
  const returnPath = safeReturnPath(query.get("return"));
  const { db, config } = runtime();
  const notAllowed = () => new Response(appPage("Not allowed", `You may not open ${name}. Ask an admin for access.`, "/"), { status: 403, headers: { "content-type": "text/html; charset=utf-8" } });
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
  const [target] = await db.select().from(targets).where(and(eq(targets.name, name), eq(targets.protocol, "web")));
  // An unknown app and a forbidden one look the same, so names cannot be probed.
  if (!target || !(await mayReach(db, user, target))) {
    await audit(db, actor, { action: "connect.ticket", outcome: "refused", objectType: "target", objectId: target?.id, details: { purpose: "app", target: name } });
    return notAllowed();
  }
  await audit(db, actor, { action: "connect.ticket", objectType: "target", objectId: target.id, details: { purpose: "app", target: target.name } });
  const { handoffUrl } = await startWebSession(runtime(), user.id, actor, target, returnPath, state);
  return Response.redirect(handoffUrl, 302);
}
