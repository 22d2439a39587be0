// The one shape of an API route: parse → authorize → call lib/ → respond. Every route names the role it
// needs; mutating requests must come from the gateway's own origin.
import { z } from "zod";
import type { Actor } from "../audit";
import { actorOf, currentUser, hasRole, type SignedInUser } from "../auth/current-user";
import type { Role } from "../protocol/domain";
import { ApiError } from "../errors";
import type { ApiErrorBody } from "../protocol/admin";
import { clientAddress } from "../request-context";
import { runtime } from "../runtime";

export interface RouteContext<Body> {
  user: SignedInUser;
  actor: Actor;
  body: Body;
  params: Record<string, string>;
  request: Request;
}

const errorResponse = (status: number, body: ApiErrorBody) => Response.json(body, { status });

/** Per-field messages for forms: the first problem of each field. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "form";
    fields[key] ??= issue.message;
  }
  return fields;
}

/** A unique-index violation means the name is taken: say so on the name field. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  return code === "23505";
}

export function apiRoute<Schema extends z.ZodType | undefined = undefined>(
  options: { role: Role | readonly Role[]; body?: Schema },
  handler: (context: RouteContext<Schema extends z.ZodType ? z.output<Schema> : undefined>) => Promise<unknown>,
) {
  return async (request: Request, segment: { params: Promise<Record<string, string>> }): Promise<Response> => {
    const user = await currentUser();
    if (!user) return errorResponse(401, { error: "Sign in first" });
    if (!hasRole(user, options.role)) return errorResponse(403, { error: `This needs the ${[options.role].flat().join(" or ")} role` });
    if (request.method !== "GET" && request.method !== "HEAD") {
      const origin = request.headers.get("origin");
      if (origin !== null && origin !== runtime().config.publicUrl.origin) return errorResponse(403, { error: "Cross-site request refused" });
    }
    let body: unknown;
    if (options.body) {
      const raw = await request.json().catch(() => undefined);
      if (raw === undefined) return errorResponse(400, { error: "The request body must be JSON" });
      const parsed = options.body.safeParse(raw);
      if (!parsed.success) return errorResponse(400, { error: "Some fields need attention", fields: fieldErrors(parsed.error) });
      body = parsed.data;
    }
    try {
      const result = await handler({
        user,
        actor: actorOf(user, clientAddress(request.headers)),
        body: body as never,
        params: (await segment.params) ?? {},
        request,
      });
      return result instanceof Response ? result : Response.json(result ?? { ok: true });
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(error.status, { error: error.message, fields: error.fields });
      if (isUniqueViolation(error)) return errorResponse(409, { error: "That name is already taken", fields: { name: "That name is already taken" } });
      console.error(`${request.method} ${new URL(request.url).pathname} failed:`, error);
      return errorResponse(500, { error: "Something went wrong on the gateway; the error is in its log" });
    }
  };
}
