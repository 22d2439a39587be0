"use client";
import { useState, type FormEvent } from "react";
import { Button, Card, DataTable, EditorCard, Field, Select, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";

interface CredentialSummary {
  id: string;
  name: string;
  kind: "password" | "private_key";
  username: string;
  updatedAt: string;
  rotationDueAt: string | null;
  rotationDueReason: string | null;
}

/** Secrets go in and never come out: the list shows names and usernames; replacing is the only edit. */
export function CredentialEditor({ credentials }: { credentials: CredentialSummary[] }) {
  const [replacing, setReplacing] = useState<CredentialSummary | null>(null);
  const { formError, fieldErrors, submit } = useApiForm();
  const [kind, setKind] = useState<"password" | "private_key">("password");

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    // On replace, an empty field keeps the stored value.
    const form = Object.fromEntries([...new FormData(formElement)].filter(([, value]) => !replacing || value !== ""));
    if (!(await (replacing ? submit("PATCH", `/api/admin/credentials/${replacing.id}`, form) : submit("POST", "/api/admin/credentials", form)))) return;
    setReplacing(null);
    formElement.reset();
  }

  async function remove(credential: CredentialSummary) {
    if (!window.confirm(`Delete credential ${credential.name}? Targets using it will have none.`)) return;
    await submit("DELETE", `/api/admin/credentials/${credential.id}`);
  }

  return (
    <div className="grid items-start gap-6 grid-cols-[minmax(0,1fr)] lg:grid-cols-[minmax(0,1fr)_22rem]">
      <Card>
        {credentials.length === 0 ? (
          <p className="text-sm text-slate-600">No credentials yet. A credential is a username with a password or private key that the gateway uses to log in to a target.</p>
        ) : (
          <DataTable caption="Credentials" columns={["Name", "Username", "Kind", "Changed", ""]}>
              {credentials.map((credential) => (
                <tr key={credential.id} className="border-t border-slate-100">
                  <td className="py-2 font-medium">
                    {credential.name}
                    {credential.rotationDueAt ? (
                      <span className="block text-xs font-normal text-amber-800" data-testid="rotation-due">
                        Rotation due: {credential.rotationDueReason} ({new Date(credential.rotationDueAt).toLocaleString()}). Replace the password to clear.
                      </span>
                    ) : null}
                  </td>
                  <td className="py-2 font-mono">{credential.username}</td>
                  <td className="py-2">{credential.kind === "password" ? "Password" : "Private key"}</td>
                  <td className="py-2 text-slate-600">{new Date(credential.updatedAt).toLocaleString()}</td>
                  <td className="space-x-2 py-2 text-right whitespace-nowrap">
                    <Button variant="secondary" onClick={() => setReplacing(credential)} aria-label={`Replace ${credential.name}`}>
                      Replace
                    </Button>
                    <Button variant="danger" onClick={() => remove(credential)} aria-label={`Delete ${credential.name}`}>
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
          </DataTable>
        )}
      </Card>
      <EditorCard
        title={replacing ? `Replace ${replacing.name}` : "Add a credential"}
        formKey={replacing?.id ?? "new"}
        onSubmit={save}
        formError={formError}
        submitLabel={replacing ? "Replace" : "Add credential"}
        onCancel={replacing ? () => setReplacing(null) : undefined}
        autoComplete="off"
      >
        <Field id="name" label="Name" error={fieldErrors.name}>
          <TextInput id="name" defaultValue={replacing?.name} invalid={Boolean(fieldErrors.name)} required />
        </Field>
        <Field id="kind" label="Kind" error={fieldErrors.kind}>
          <Select id="kind" defaultValue={replacing?.kind ?? "password"} onChange={(event) => setKind(event.target.value as typeof kind)}>
            <option value="password">Password</option>
            <option value="private_key">Private key (OpenSSH or PEM)</option>
          </Select>
        </Field>
        <Field id="username" label="Username on the target" error={fieldErrors.username}>
          <TextInput id="username" defaultValue={replacing?.username} invalid={Boolean(fieldErrors.username)} required />
        </Field>
        <Field id="secret" label={kind === "password" ? "Password" : "Private key"} error={fieldErrors.secret} hint="Stored encrypted; it cannot be shown again">
          {kind === "password" ? (
            <TextInput id="secret" type="password" autoComplete="new-password" invalid={Boolean(fieldErrors.secret)} required />
          ) : (
            <textarea
              id="secret"
              name="secret"
              rows={6}
              aria-invalid={Boolean(fieldErrors.secret) || undefined}
              className="mt-1 block w-full rounded-md border border-slate-300 px-2.5 py-1.5 font-mono text-xs"
            />
          )}
        </Field>
      </EditorCard>
    </div>
  );
}
