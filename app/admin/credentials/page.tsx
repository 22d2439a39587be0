import { PageTitle } from "@/app/_ui/primitives";
import { requirePageUser } from "@/lib/auth/current-user";
import { listCredentials } from "@/lib/data/credentials";
import { runtime } from "@/lib/infra/runtime";
import { CredentialEditor } from "./credential-editor";

export default async function CredentialsPage() {
  await requirePageUser("admin");
  const credentials = await listCredentials(runtime().db);
  return (
    <>
      <PageTitle description="Logins the gateway injects into sessions. They are encrypted at rest and never shown again, except a password to someone a policy lets check it out during an approved request (marked here for rotation).">Credentials</PageTitle>
      <CredentialEditor credentials={credentials.map((credential) => ({ ...credential, updatedAt: credential.updatedAt.toISOString(), rotationDueAt: credential.rotationDueAt?.toISOString() ?? null }))} />
    </>
  );
}
