import { PageTitle } from "@/app/_ui/primitives";
import { listApiTokens } from "@/lib/data/api-tokens";
import { hasRole, requirePageUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/infra/runtime";
import { listServiceAccounts } from "@/lib/data/users";
import { TokenManager } from "./token-manager";

export default async function TokensPage() {
  const user = await requirePageUser();
  const { db } = runtime();
  const admin = hasRole(user, "admin");
  const [tokens, serviceAccounts] = await Promise.all([listApiTokens(db, admin ? undefined : user.id), admin ? listServiceAccounts(db) : []]);
  return (
    <>
      <PageTitle
        description={
          <>
            A token calls the <a href="/api-reference" className="text-indigo-700 underline">API</a> and the <code>gatehouse</code> command line as its owner, narrowed to its scopes, until it expires or
            is revoked. Every request made with one is in the audit log.
          </>
        }
      >
        API tokens
      </PageTitle>
      <TokenManager
        you={{ id: user.id, username: user.username, roles: user.roles }}
        tokens={tokens}
        serviceAccounts={serviceAccounts.map((account) => ({ id: account.id, username: account.username, roles: account.grantedRoles, disabled: account.disabled }))}
        admin={admin}
      />
    </>
  );
}
