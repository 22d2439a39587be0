import { AuthError } from "next-auth";
import { redirect } from "next/navigation";
import { Button, Card, Field, FormError, TextInput } from "@/app/_ui/primitives";
import { signIn } from "@/lib/auth/auth";
import { currentUser } from "@/lib/auth/current-user";
import { runtime } from "@/lib/infra/runtime";
import { safeReturnPath } from "@/lib/domain/web-app-hosts";

const errorMessages: Record<string, string> = {
  CredentialsSignin: "The username or password is not right.",
  rate_limited: "Too many failed attempts. Wait 15 minutes and try again.",
  busy: "Many sign-ins are being checked right now. Try again in a moment.",
  AccessDenied: "Your account is disabled or not allowed to sign in here.",
};

async function signInWithPassword(formData: FormData) {
  "use server";
  try {
    await signIn("local", { username: formData.get("username"), password: formData.get("password"), redirectTo: safeReturnPath(String(formData.get("next") ?? "")) });
  } catch (error) {
    if (error instanceof AuthError) {
      const code = (error as AuthError & { code?: string }).code;
      redirect(`/signin?error=${encodeURIComponent(code && code !== "credentials" ? code : error.type)}`);
    }
    throw error;
  }
}

async function signInWithSso(formData: FormData) {
  "use server";
  await signIn("oidc", { redirectTo: safeReturnPath(String(formData.get("next") ?? "")) });
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; code?: string; setup?: string; next?: string }> }) {
  const { error, code, setup, next } = await searchParams;
  /** Where to go once signed in: a page of the gateway (e.g. opening a web app), never another site. */
  const destination = safeReturnPath(next);
  if (await currentUser()) redirect(destination);
  const { oidc } = runtime().config;
  const message = error ? (errorMessages[code ?? ""] ?? errorMessages[error] ?? "Sign-in did not complete. Try again.") : undefined;
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-6 text-center text-2xl font-semibold">Sign in to Gatehouse</h1>
      <Card>
        <div className="space-y-4">
          <FormError message={message} />
          {setup === "done" ? (
            <p role="status" className="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
              Password set. Sign in as admin.
            </p>
          ) : null}
          {oidc ? (
            <form action={signInWithSso}>
              <input type="hidden" name="next" value={destination} />
              <Button type="submit" className="w-full">
                Sign in with {oidc.displayName}
              </Button>
            </form>
          ) : (
            <form action={signInWithPassword} className="space-y-4">
              <input type="hidden" name="next" value={destination} />
              <Field id="username" label="Username">
                <TextInput id="username" autoComplete="username" required defaultValue="admin" />
              </Field>
              <Field id="password" label="Password">
                <TextInput id="password" type="password" autoComplete="current-password" required />
              </Field>
              <Button type="submit" className="w-full">
                Sign in
              </Button>
            </form>
          )}
        </div>
      </Card>
    </div>
  );
}
