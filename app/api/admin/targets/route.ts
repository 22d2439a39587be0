import { apiRoute } from "@/lib/api/route";
import { adminTargetView } from "@/lib/api/views";
import { runtime } from "@/lib/infra/runtime";
import { targetPageHref } from "@/lib/protocol/target-search";
import { createTarget, listTargetsPage } from "@/lib/data/targets";

/** A page of targets by name (`q`, `tag`, `after`); a Link header names the next page when there is one. */
export const GET = apiRoute("GET /api/admin/targets", async ({ query, request }) => {
  const url = new URL(request.url);
  const page = await listTargetsPage(runtime().db, query);
  const headers = new Headers({ "x-total-count": String(page.matching) });
  if (page.next) headers.set("link", `<${targetPageHref(url.pathname, query, page.next)}>; rel="next"`);
  return Response.json(page.targets.map(adminTargetView), { headers });
});

export const POST = apiRoute("POST /api/admin/targets", async ({ actor, body }) => adminTargetView(await createTarget(runtime().db, actor, body)));
