import { PageTitle } from "@/app/_ui/primitives";
import { adminTargetView } from "@/lib/api/views";
import { requirePageUser } from "@/lib/auth/current-user";
import { listCredentials } from "@/lib/credentials";
import { runtime } from "@/lib/runtime";
import { listAllRevocations } from "@/lib/revocations";
import { listTargets } from "@/lib/targets";
import { TargetEditor } from "./target-editor";

export default async function TargetsPage() {
  await requirePageUser("admin");
  const { db } = runtime();
  const [targets, credentials, revocations] = await Promise.all([listTargets(db), listCredentials(db), listAllRevocations(db)]);
  return (
    <>
      <PageTitle description="Who may reach what. A target names the users and IdP groups allowed to connect to it.">Targets</PageTitle>
      <TargetEditor targets={targets.map(adminTargetView)} credentials={credentials.map(({ id, name, username }) => ({ id, name, username }))}
        cancelledAccess={revocations.map((revocation) => ({ ...revocation, revokedAt: revocation.revokedAt.toISOString() }))}
      />
    </>
  );
}
