import { PasswordCheckout } from "@/app/_components/password-checkout";
import { ProbeButton } from "@/app/_components/probe-button";
import { Badge, Card, EmptyState, PageTitle } from "@/app/_ui/primitives";
import { hasRole, requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/infra/runtime";
import { listReachableTargets } from "@/lib/data/targets";
import { headers } from "next/headers";
import Link from "next/link";
import { utcMinute } from "@/lib/domain/governance/decide";
import { clientAddress } from "@/lib/infra/request-context";
import { matchesTargetSearch, tagsOf, targetSearchSchema } from "@/lib/protocol/target-search";
import { TargetSearchForm } from "@/app/_components/target-search-form";

export default async function HomePage({ searchParams }: { searchParams: Promise<Record<string, string>> }) {
  const user = await requirePageUser();
  const search = targetSearchSchema.parse(await searchParams);
  const reachable = await listReachableTargets(runtime().db, user, clientAddress(await headers()));
  const targets = reachable.filter(({ target }) => matchesTargetSearch(target, search));
  return (
    <>
      <PageTitle description="The servers, desktops and web apps you may open through Gatehouse.">My targets</PageTitle>
      {reachable.length > 1 ? <TargetSearchForm search={search} tags={tagsOf(reachable.map(({ target }) => target))} shown={targets.length} total={reachable.length} clearHref="/" /> : null}
      {reachable.length > 0 && targets.length === 0 ? (
        <EmptyState title="No target matches">Try other words, or another tag.</EmptyState>
      ) : targets.length === 0 ? (
        <EmptyState title="No targets for you yet">
          {hasRole(user, "admin") ? (
            <p>
              Add one on the <Link href="/admin/targets" className="font-medium text-indigo-700">Targets</Link> page and list
              yourself ({user.username}) or one of your groups among those allowed.
            </p>
          ) : (
            <p>An administrator grants access per target. Ask yours to add you ({user.username}) or one of your groups.</p>
          )}
        </EmptyState>
      ) : (
        <ul className="grid gap-4 sm:grid-cols-2" aria-label="Targets">
          {targets.map(({ target, decision }) => (
            <li key={target.id}>
              <Card>
                <div className="flex items-baseline justify-between">
                  <h2 className="text-lg font-semibold">{target.name}</h2>
                  <Badge>{target.protocol.toUpperCase()}</Badge>
                </div>
                <p className="mt-1 font-mono text-sm text-slate-600">
                  {target.host}:{target.port}
                </p>
                {target.tags.length > 0 ? (
                  <p className="mt-2 flex flex-wrap gap-1">
                    {target.tags.map((tag) => (
                      <Link key={tag} href={`/?tag=${encodeURIComponent(tag)}`} aria-label={`Targets tagged ${tag}`}>
                        <Badge>{tag}</Badge>
                      </Link>
                    ))}
                  </p>
                ) : null}
                {decision.allowed && decision.endsAt ? (
                  <p className="mt-2 text-xs text-slate-600">Access until {utcMinute(decision.endsAt)}</p>
                ) : null}
                {decision.allowed ? null : (
                  <p className="mt-2 text-sm text-amber-800" data-testid="access-refused">
                    {decision.reason}
                  </p>
                )}
                <div className="mt-4 flex flex-wrap items-center gap-3">
                  {!decision.allowed ? (
                    decision.code === "notice_not_accepted" ? (
                      <Link
                        href={`/connect/${target.id}`}
                        aria-label={`Read the notice for ${target.name}`}
                        className="rounded-md border border-indigo-300 px-3 py-1.5 text-sm font-medium text-indigo-700 hover:bg-indigo-50"
                      >
                        Read the notice
                      </Link>
                    ) : decision.requestable ? (
                      <Link
                        href={`/requests?target=${target.id}`}
                        aria-label={`Request access to ${target.name}`}
                        className="rounded-md border border-indigo-300 px-3 py-1.5 text-sm font-medium text-indigo-700 hover:bg-indigo-50"
                      >
                        Request access
                      </Link>
                    ) : null
                  ) : target.protocol !== "web" ? (
                    <Link
                      href={`/connect/${target.id}`}
                      aria-label={`Connect to ${target.name}`}
                      className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                    >
                      Connect
                    </Link>
                  ) : (
                    <a
                      href={`/apps/${target.name}`}
                      aria-label={`Open ${target.name}`}
                      className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
                    >
                      Open
                    </a>
                  )}
                  {decision.allowed ? <ProbeButton targetId={target.id} targetName={target.name} /> : null}
                  {decision.allowed && decision.mayRevealCredential && target.credentialId ? <PasswordCheckout targetId={target.id} targetName={target.name} /> : null}
                </div>
              </Card>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
