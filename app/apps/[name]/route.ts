// Opening a published web app: the access decision is made here, on the gateway's origin where the user is
// signed in; then a single-use ticket hands the new web session to the app's own host.
import { and, eq } from "drizzle-orm";
import { audit } from "@/lib/audit";
import { actorOf, currentUser } from "@/lib/auth/current-user";
import { targets } from "@/lib/db/schema";
import { clientAddress } from "@/lib/request-context";
import { mayReach } from "@/lib/revocations";
import { runtime } from "@/lib/runtime";
import { appPage, safeReturnPath, startWebSession } from "@/lib/web-apps";

export async function GET(request: Request, { params }: { params: Promise<{ name: string }> }) {
  const { name } = await params;
  const returnPath = safeReturnPath(new URL(request.url).searchParams.get("return"));
  const { db, config } = runtime();
  const user = await currentUser();
  if (!user) {
    const signIn = new URL("/signin", config.publicUrl);
    signIn.searchParams.set("next", `/apps/${encodeURIComponent(name)}?return=${encodeURIComponent(returnPath)}`);
    return Response.redirect(signIn, 302);
  }
  const actor = actorOf(user, clientAddress(request.headers));
  const [target] = await db.select().from(targets).where(and(eq(targets.name, name), eq(targets.protocol, "web")));
  // An unknown app and a forbidden one look the same, so names cannot be probed.
  if (!target || !(await mayReach(db, user, target))) {
    await audit(db, actor, { action: "connect.ticket", outcome: "refused", objectType: "target", objectId: target?.id, details: { purpose: "app", target: name } });
    return new Response(appPage("Not allowed", `You may not open ${name}. Ask an admin for access.`, "/"), { status: 403, headers: { "content-type": "text/html; charset=utf-8" } });
  }
  await audit(db, actor, { action: "connect.ticket", objectType: "target", objectId: target.id, details: { purpose: "app", target: target.name } });
  const { handoffUrl } = await startWebSession(runtime(), user.id, actor, target, returnPath);
  return Response.redirect(handoffUrl, 302);
}
