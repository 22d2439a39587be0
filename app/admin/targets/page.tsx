import { PageTitle } from "@/app/_ui/primitives";
import { adminTargetView } from "@/lib/api/views";
import { requirePageUser } from "@/lib/auth/current-user";
import { listCredentials } from "@/lib/data/credentials";
import { runtime } from "@/lib/infra/runtime";
import { listAllRevocations } from "@/lib/data/revocations";
import { listTargetsPage } from "@/lib/data/targets";
import { TargetSearchForm } from "@/app/_components/target-search-form";
import { targetPageHref, targetPageQuerySchema } from "@/lib/protocol/target-search";
import { TargetEditor } from "./target-editor";

export default async function TargetsPage({ searchParams }: { searchParams: Promise<Record<string, string>> }) {
  await requirePageUser("admin");
  const query = targetPageQuerySchema.parse(await searchParams);
  const { db } = runtime();
  const [page, credentials, revocations] = await Promise.all([listTargetsPage(db, query, { withTags: true }), listCredentials(db), listAllRevocations(db)]);
  const address = (after?: string) => targetPageHref("/admin/targets", query, after);
  return (
    <>
      <PageTitle description="Who may reach what. A target names the users and IdP groups allowed to connect to it.">Targets</PageTitle>
      <TargetSearchForm search={query} tags={page.tags} shown={page.matching} total={page.total} clearHref="/admin/targets" />
      <TargetEditor
        targets={page.targets.map(adminTargetView)}
        paging={{ next: page.next ? address(page.next) : null, first: query.after ? address() : null }}
        total={page.total}
        credentials={credentials.map(({ id, name, username }) => ({ id, name, username }))}
        cancelledAccess={revocations.map((revocation) => ({ ...revocation, revokedAt: revocation.revokedAt.toISOString() }))}
      />
    </>
  );
}
