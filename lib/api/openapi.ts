// The OpenAPI 3.1 document of the API, made from the operations table and its zod schemas, so that it cannot
// drift from what the routes accept.
import { z } from "zod";
import { sessionCookieName } from "../auth/session-cookie";
import { apiErrorSchema } from "../protocol/admin";
import { apiScopes } from "../protocol/api-tokens";
import { operations, type Operation } from "./operations";
import packageJson from "../../package.json" with { type: "json" };

type JsonSchema = Record<string, unknown>;

/** What a request may carry, as JSON Schema 2020-12 (OpenAPI 3.1's own dialect). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** Query parameters of an object schema, or of a union of them (each alternative's fields, none required). */
function queryParameters(schema: z.ZodType) {
  const root = jsonSchema(schema, "input");
  const alternatives = (root.anyOf ?? root.oneOf ?? [root]) as JsonSchema[];
  const required = alternatives.length === 1 ? new Set((root.required as string[] | undefined) ?? []) : new Set<string>();
  const fields = new Map<string, JsonSchema>();
  for (const alternative of alternatives) {
    for (const [name, field] of Object.entries((alternative.properties ?? {}) as Record<string, JsonSchema>)) fields.set(name, field);
  }
  return [...fields].map(([name, field]) => {
    const { description, ...fieldSchema } = field;
    return { name, in: "query", required: required.has(name), ...(description ? { description } : {}), schema: fieldSchema };
  });
}

const pathParameters = (path: string) =>
  [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name: name!, in: "path", required: true, schema: { type: "string" } }));

/** `POST /api/sessions/{id}/control` → `postSessionsIdControl`. */
function operationId(method: string, path: string) {
  const words = path
    .replace(/^\/api\//, "")
    .split(/[/{}.\-]+/)
    .filter(Boolean);
  return method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
}

function security(operation: Operation) {
  if (operation.role === "anyone") return [];
  if (operation.scope === null) return [{ sessionCookie: [] }];
  return [{ sessionCookie: [] }, { apiToken: operation.scope === "any" ? [] : [operation.scope] }];
}

const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

function responses(operation: Operation) {
  const answer = operation.response
    ? { description: "Done", content: { "application/json": { schema: jsonSchema(operation.response, "output") } } }
    : { description: "Done; JSON unless the route says otherwise" };
  const refusals =
    operation.role === "anyone"
      ? {}
      : {
          "401": { description: "Not signed in, or the API token is not valid", content: errorContent },
          "403": { description: "The caller lacks the role, or the token the scope", content: errorContent },
        };
  return {
    "200": answer,
    ...(operation.body || operation.query ? { "400": { description: "Some fields need attention: `fields` says which", content: errorContent } } : {}),
    ...refusals,
  };
}

function describe(method: string, path: string, operation: Operation) {
  const roles = [operation.role].flat();
  const scopeNote =
    operation.role === "anyone"
      ? "Open to anyone."
      : operation.scope === null
        ? "For signed-in people only: an API token cannot call it."
        : `Roles: ${roles.join(" or ")}. ${operation.scope === "any" ? "Any API token." : `API tokens need the \`${operation.scope}\` scope.`}`;
  return {
    operationId: operationId(method, path),
    summary: operation.summary,
    description: [operation.description, scopeNote].filter(Boolean).join("\n\n"),
    tags: [operation.tag],
    security: security(operation),
    "x-gatehouse-roles": roles,
    "x-gatehouse-scope": operation.scope,
    parameters: [...pathParameters(path), ...(operation.query ? queryParameters(operation.query) : [])],
    ...(operation.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(operation.body, "input") } } } } : {}),
    responses: responses(operation),
  };
}

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, operation] of Object.entries(operations) as [string, Operation][]) {
    const [method, path] = key.split(" ") as [string, string];
    (paths[path] ??= {})[method.toLowerCase()] = describe(method, path, operation);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse API",
      version: packageJson.version,
      description:
        "The gateway's REST API. Call it signed in (the browser's session cookie) or with an API token: `Authorization: Bearer gatehouse_…`. " +
        "A token acts as its owner, narrowed to its scopes; every request made with one is in the audit log.",
    },
    servers: [{ url: serverUrl }],
    tags: [...new Set(Object.values(operations).map((operation) => operation.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiToken: {
          type: "http",
          scheme: "bearer",
          description: `An API token, issued on the Tokens page. Scopes: ${Object.entries(apiScopes)
            .map(([scope, what]) => `\`${scope}\`: ${what}`)
            .join("; ")}.`,
        },
        sessionCookie: { type: "apiKey", in: "cookie", name: sessionCookieName(new URL(serverUrl)), description: "The browser's signed-in session." },
      },
      schemas: { Error: jsonSchema(apiErrorSchema, "output") },
    },
  };
}
