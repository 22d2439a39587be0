// The one shape of an API route: parse → authorize → call lib/ → respond. What a route needs (roles, a token's
// scope, its body and query schemas) is its entry in lib/api/operations.ts; mutating requests signed in with a
// cookie must come from the gateway's own origin. A caller is a signed-in person (the session cookie) or an API
// token (`Authorization: Bearer`), checked against the same roles; every request made with a token is audited.
import { z } from "zod";
import { authenticateToken, bearerSecret } from "../data/api-tokens";
import { audit, type Actor } from "../data/audit";
import { countTokenFailure, loginLimits } from "../data/login-throttle";
import { actorOf, currentUser, hasRole, signedInUser, type SignedInUser } from "../auth/current-user";
import { ApiError } from "../domain/errors";
import type { ApiErrorBody } from "../protocol/admin";
import type { Role } from "../protocol/domain";
import { clientAddress } from "../infra/request-context";
import { runtime } from "../infra/runtime";
import { operations, type Operation, type OperationKey } from "./operations";
import { log } from "../infra/log";

type Parsed<Schema> = Schema extends z.ZodType ? z.output<Schema> : undefined;
type Entry<Key extends OperationKey> = (typeof operations)[Key];

export interface RouteContext<Body = undefined, Query = undefined> {
  user: SignedInUser;
  actor: Actor;
  body: Body;
  query: Query;
  params: Record<string, string>;
  request: Request;
  /** The token the request was made with, if it was. */
  token: TokenIdentity | null;
}

export type OperationContext<Key extends OperationKey> = RouteContext<Parsed<Entry<Key> extends { body: infer B } ? B : undefined>, Parsed<Entry<Key> extends { query: infer Q } ? Q : undefined>>;

const errorResponse = (status: number, body: ApiErrorBody, headers?: HeadersInit) => Response.json(body, { status, headers });

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

interface Caller {
  user: SignedInUser;
  token: (TokenIdentity & { scopes: readonly string[] }) | null;
}

interface TokenIdentity {
  id: string;
  name: string;
}

/** Who is calling: a token when the request carries one (a bad one is refused, never ignored), else the cookie. */
async function identify(request: Request, sourceIp: string | null): Promise<Caller | Response> {
  const authorization = request.headers.get("authorization");
  if (authorization === null) {
    const user = await currentUser();
    return user ? { user, token: null } : errorResponse(401, { error: "Sign in first" });
  }
  const bearer = bearerSecret(authorization);
  const found = bearer ? await authenticateToken(runtime().db, bearer, sourceIp) : null;
  if (!found) {
    const failures = await countTokenFailure(runtime().db, sourceIp ?? "unknown");
    const limited = failures > loginLimits.perAddress;
    // Every failure is audited up to the limit, and the moment the limit is passed; the rest of the flood is not.
    if (failures <= loginLimits.perAddress + 1) {
      await audit(runtime().db, { id: null, name: "anonymous", sourceIp }, { action: "login", outcome: limited ? "refused" : "failure", details: { method: "api_token", path: new URL(request.url).pathname, ...(limited ? { reason: "rate_limited" } : {}) } });
    }
    if (limited) return errorResponse(429, { error: "Too many requests with API tokens that are not valid came from this address; try again later" });
    return errorResponse(401, { error: "The API token is not valid: it may be mistyped, expired or revoked" }, { "www-authenticate": 'Bearer realm="gatehouse", error="invalid_token"' });
  }
  return { user: signedInUser(found.user), token: { id: found.token.id, name: found.token.name, scopes: found.token.scopes } };
}

/** Why the caller may not call the operation, or null when they may: roles first, then the token's scope. */
function refusal(request: Request, operation: Operation, caller: Caller): Response | null {
  if (caller.token && operation.scope === null) return errorResponse(403, { error: "This route is for signed-in people only: an API token cannot call it" });
  if (!hasRole(caller.user, operation.role as Role | readonly Role[])) return errorResponse(403, { error: `This needs the ${[operation.role].flat().join(" or ")} role` });
  if (caller.token) {
    const scope = operation.scope!;
    if (scope !== "any" && !caller.token.scopes.includes(scope)) {
      return errorResponse(403, { error: `This needs a token with the ${scope} scope` }, { "www-authenticate": `Bearer realm="gatehouse", error="insufficient_scope", scope="${scope}"` });
    }
  } else if (request.method !== "GET" && request.method !== "HEAD") {
    // A cookie rides along on cross-site requests; a token never does.
    const origin = request.headers.get("origin");
    if (origin !== null && origin !== runtime().config.publicUrl.origin) return errorResponse(403, { error: "Cross-site request refused" });
  }
  return null;
}

function queryOf(request: Request): Record<string, string> {
  return Object.fromEntries(new URL(request.url).searchParams);
}

export function apiRoute<Key extends OperationKey>(key: Key, handler: (context: OperationContext<Key>) => Promise<unknown>) {
  const operation: Operation = operations[key];
  return async (request: Request, segment: { params: Promise<Record<string, string>> }): Promise<Response> => {
    const sourceIp = clientAddress(request.headers);
    try {
      let caller: Caller | null = null;
      if (operation.role !== "anyone") {
        const identified = await identify(request, sourceIp);
        if (identified instanceof Response) return identified;
        caller = identified;
      }
      const response =
        (caller && refusal(request, operation, caller)) ?? (await respond(request, segment, operation, caller, sourceIp, handler as (context: RouteContext<unknown, unknown>) => Promise<unknown>));
      if (caller?.token) await auditTokenUse(request, response, caller.user, caller.token, sourceIp);
      return response;
    } catch (error) {
      log.error({ err: error }, `${request.method} ${new URL(request.url).pathname}: identifying the caller failed`);
      return errorResponse(500, { error: "Something went wrong on the gateway; the error is in its log" });
    }
  };
}

async function auditTokenUse(request: Request, response: Response, user: SignedInUser, token: TokenIdentity, sourceIp: string | null) {
  try {
    await audit(runtime().db, actorOf(user, sourceIp), {
      action: "api.request",
      outcome: response.ok ? "success" : response.status === 401 || response.status === 403 ? "refused" : "failure",
      objectType: "api_token",
      objectId: token.id,
      details: { token: token.name, method: request.method, path: new URL(request.url).pathname, status: response.status },
    });
  } catch (error) {
    log.error({ err: error }, `auditing a token's ${request.method} ${new URL(request.url).pathname} failed`);
  }
}

async function respond(
  request: Request,
  segment: { params: Promise<Record<string, string>> },
  operation: Operation,
  caller: Caller | null,
  sourceIp: string | null,
  handler: (context: RouteContext<unknown, unknown>) => Promise<unknown>,
): Promise<Response> {
  let body: unknown;
  if (operation.body) {
    const raw = await request.json().catch(() => undefined);
    if (raw === undefined) return errorResponse(400, { error: "The request body must be JSON" });
    const parsed = operation.body.safeParse(raw);
    if (!parsed.success) return errorResponse(400, { error: "Some fields need attention", fields: fieldErrors(parsed.error) });
    body = parsed.data;
  }
  let query: unknown;
  if (operation.query) {
    const parsed = operation.query.safeParse(queryOf(request));
    if (!parsed.success) {
      const { issues } = parsed.error;
      return errorResponse(400, { error: issues.length === 1 ? issues[0]!.message : "Some parameters need attention", fields: fieldErrors(parsed.error) });
    }
    query = parsed.data;
  }
  try {
    const result = await handler({
      user: caller?.user as SignedInUser,
      actor: caller ? actorOf(caller.user, sourceIp) : { id: null, name: "anonymous", sourceIp },
      body,
      query,
      params: (await segment.params) ?? {},
      request,
      token: caller?.token ? { id: caller.token.id, name: caller.token.name } : null,
    });
    return result instanceof Response ? result : Response.json(result ?? { ok: true });
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error.status, { error: error.message, fields: error.fields });
    if (isUniqueViolation(error)) return errorResponse(409, { error: "That name is already taken", fields: { name: "That name is already taken" } });
    log.error({ err: error }, `${request.method} ${new URL(request.url).pathname} failed`);
    return errorResponse(500, { error: "Something went wrong on the gateway; the error is in its log" });
  }
}
