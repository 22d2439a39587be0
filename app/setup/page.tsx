import { redirect } from "next/navigation";
import { Button, Card, Field, FormError, TextInput } from "@/app/_ui/primitives";
import { audit } from "@/lib/data/audit";
import { hashPassword, minimumPasswordLength } from "@/lib/auth/password";
import { clientAddress } from "@/lib/infra/request-context";
import { runtime } from "@/lib/infra/runtime";
import { completeSetup, isSetupTokenValid } from "@/lib/data/users";
import { headers } from "next/headers";

async function setAdminPassword(formData: FormData) {
  "use server";
  const token = String(formData.get("token") ?? "");
  const password = String(formData.get("password") ?? "");
  const confirmation = String(formData.get("confirmation") ?? "");
  const back = (problem: string) => redirect(`/setup?token=${encodeURIComponent(token)}&problem=${problem}`);
  if (password.length < minimumPasswordLength) back("short");
  if (password !== confirmation) back("mismatch");
  const { db } = runtime();
  const admin = await completeSetup(db, token, await hashPassword(password));
  if (!admin) back("token");
  await audit(db, { id: admin!.id, name: admin!.username, sourceIp: clientAddress(await headers()) }, { action: "user.set_password", objectType: "user", objectId: admin!.id, details: { via: "setup link" } });
  redirect("/signin?setup=done");
}

const problems: Record<string, string> = {
  short: `The password must be at least ${minimumPasswordLength} characters.`,
  mismatch: "The two passwords differ.",
  token: "This setup link has been used or has expired. Restart the gateway to print a new one.",
};

export default async function SetupPage({ searchParams }: { searchParams: Promise<{ token?: string; problem?: string }> }) {
  const { token = "", problem } = await searchParams;
  const valid = token !== "" && (await isSetupTokenValid(runtime().db, token));
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-6 text-center text-2xl font-semibold">Set the admin password</h1>
      <Card>
        {valid ? (
          <form action={setAdminPassword} className="space-y-4">
            <FormError message={problem ? problems[problem] : undefined} />
            <input type="hidden" name="token" value={token} />
            <p className="text-sm text-slate-600">
              You will sign in as <strong>admin</strong>. Use at least {minimumPasswordLength} characters; a passphrase is best.
            </p>
            <Field id="password" label="New password">
              <TextInput id="password" type="password" autoComplete="new-password" required />
            </Field>
            <Field id="confirmation" label="Repeat the password">
              <TextInput id="confirmation" type="password" autoComplete="new-password" required />
            </Field>
            <Button type="submit" className="w-full">
              Set password
            </Button>
          </form>
        ) : (
          <FormError message={problems.token} />
        )}
      </Card>
    </div>
  );
}
