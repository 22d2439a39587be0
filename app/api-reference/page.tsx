import { Badge, Card, PageTitle } from "@/app/_ui/primitives";
import { operations, type Operation } from "@/lib/api/operations";
import { requirePageUser } from "@/lib/auth/current-user";
import { apiScopes } from "@/lib/protocol/api-tokens";

function access(operation: Operation) {
  if (operation.role === "anyone") return "open to anyone";
  const roles = [operation.role].flat().join(" or ");
  if (operation.scope === null) return `${roles}; signed in only, no token`;
  return `${roles}; token scope ${operation.scope === "any" ? "any" : operation.scope}`;
}

/** The API as the OpenAPI document describes it, for people: grouped, with the role and scope each route needs. */
export default async function ApiReferencePage() {
  await requirePageUser();
  const byTag = new Map<string, [string, Operation][]>();
  for (const [key, operation] of Object.entries(operations) as [string, Operation][]) byTag.set(operation.tag, [...(byTag.get(operation.tag) ?? []), [key, operation]]);
  return (
    <>
      <PageTitle
        description={
          <>
            Call it signed in, or with an API token (<code>Authorization: Bearer gatehouse_…</code>, issued on the <a href="/tokens" className="text-indigo-700 underline">API tokens</a> page). The
            machine-readable document is <a href="/api/openapi.json" className="text-indigo-700 underline">/api/openapi.json</a> (OpenAPI 3.1).
          </>
        }
      >
        API reference
      </PageTitle>
      <Card className="mb-6">
        <h2 className="mb-2 text-lg font-semibold">Scopes</h2>
        <dl className="grid gap-x-4 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
          {Object.entries(apiScopes).map(([scope, what]) => (
            <div key={scope} className="contents">
              <dt className="font-mono">{scope}</dt>
              <dd className="text-slate-600">{what}</dd>
            </div>
          ))}
        </dl>
      </Card>
      <div className="space-y-6">
        {[...byTag].map(([tag, entries]) => (
          <Card key={tag}>
            <h2 className="mb-3 text-lg font-semibold">{tag}</h2>
            <ul className="space-y-3">
              {entries.map(([key, operation]) => (
                <li key={key}>
                  <div className="font-mono text-sm">
                    <Badge>{key.split(" ")[0]}</Badge> {key.split(" ")[1]}
                  </div>
                  <p className="text-sm">{operation.description ?? operation.summary}</p>
                  <p className="text-xs text-slate-500">{access(operation)}</p>
                </li>
              ))}
            </ul>
          </Card>
        ))}
      </div>
    </>
  );
}
