"use client";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Badge, Button, Card, DataTable, Field, FormError, Select, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";
import { callApi } from "@/lib/api/client";
import { apiScopes, scopeRoles, type ApiScope, type ApiTokenView, type CreatedApiToken } from "@/lib/protocol/api-tokens";
import { roleNames, type Role } from "@/lib/protocol/domain";

interface Account {
  id: string;
  username: string;
  roles: Role[];
  disabled?: boolean;
}

const lifetimes = [7, 30, 90, 366];
const day = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "never");

function state(token: ApiTokenView) {
  if (token.revokedAt) return `revoked ${day(token.revokedAt)}`;
  if (Date.parse(token.expiresAt) <= Date.now()) return "expired";
  return "active";
}

export function TokenManager({ you, tokens, serviceAccounts, admin }: { you: Account; tokens: ApiTokenView[]; serviceAccounts: Account[]; admin: boolean }) {
  const router = useRouter();
  const [tokenError, setTokenError] = useState<string>();
  const [tokenFields, setTokenFields] = useState<Record<string, string>>({});
  const revokeForm = useApiForm();
  const accountForm = useApiForm();
  const [created, setCreated] = useState<CreatedApiToken>();
  const [ownerId, setOwnerId] = useState(you.id);
  const owner = [you, ...serviceAccounts].find((account) => account.id === ownerId) ?? you;
  // Scopes the owner's roles could never use are not offered (the gateway refuses them too).
  const usable = (Object.keys(apiScopes) as ApiScope[]).filter((scope) => scopeRoles[scope].some((role) => role === "user" || owner.roles.includes(role)));

  async function issue(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const body = {
      name: String(form.get("name") ?? ""),
      scopes: form.getAll("scopes").map(String),
      expiresInDays: Number(form.get("expiresInDays")),
      ...(ownerId !== you.id ? { serviceAccountId: ownerId } : {}),
    };
    const result = await callApi<CreatedApiToken>("POST", "/api/tokens", body);
    setTokenError(result.ok ? undefined : result.error);
    setTokenFields(result.ok ? {} : (result.fields ?? {}));
    if (!result.ok) return;
    setCreated(result.data);
    formElement.reset();
    router.refresh();
  }

  async function createAccount(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    if (await accountForm.submit("POST", "/api/admin/service-accounts", { name: String(form.get("accountName") ?? ""), roles: form.getAll("accountRoles").map(String) })) formElement.reset();
  }

  return (
    <div className="space-y-6">
      <Card>
        <h2 className="mb-3 text-lg font-semibold">New token</h2>
        <FormError message={tokenError ?? revokeForm.formError} />
        <form onSubmit={issue} className="space-y-4" noValidate aria-label="New token">
          <div className="grid gap-4 sm:grid-cols-3">
            <Field id="token-name" label="Name" hint="What it is for: ci-export, siem-pull…" error={tokenFields.name}>
              <TextInput id="token-name" name="name" invalid={Boolean(tokenFields.name)} />
            </Field>
            <Field id="token-lifetime" label="Expires after" error={tokenFields.expiresInDays}>
              <Select id="token-lifetime" name="expiresInDays" defaultValue="30">
                {lifetimes.map((days) => (
                  <option key={days} value={days}>
                    {days} days
                  </option>
                ))}
              </Select>
            </Field>
            {admin ? (
              <Field id="token-owner" label="For">
                <Select id="token-owner" value={ownerId} onChange={(event) => setOwnerId(event.target.value)}>
                  <option value={you.id}>me ({you.username})</option>
                  {serviceAccounts
                    .filter((account) => !account.disabled)
                    .map((account) => (
                      <option key={account.id} value={account.id}>
                        service account {account.username}
                      </option>
                    ))}
                </Select>
              </Field>
            ) : null}
          </div>
          <fieldset>
            <legend className="text-sm font-medium text-slate-700">Scopes</legend>
            {tokenFields.scopes ? (
              <p role="alert" className="text-xs text-red-700">
                {tokenFields.scopes}
              </p>
            ) : null}
            <div className="mt-1 grid gap-1 sm:grid-cols-2">
              {usable.map((scope) => (
                <label key={scope} className="flex items-start gap-2 text-sm">
                  <input type="checkbox" name="scopes" value={scope} className="mt-1" />
                  <span>
                    <span className="font-mono">{scope}</span> <span className="text-slate-600">— {apiScopes[scope]}</span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
          <Button type="submit">Issue token</Button>
        </form>
        {created ? (
          <div role="status" className="mt-4 rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900">
            <p>
              Token <strong>{created.token.name}</strong> for {created.token.owner.username}. Copy it now: it is shown only this once.
            </p>
            <code data-testid="new-token-secret" className="mt-2 block break-all rounded bg-white px-2 py-1 font-mono text-slate-900">
              {created.secret}
            </code>
            <Button variant="secondary" className="mt-2" onClick={() => void navigator.clipboard?.writeText(created.secret)}>
              Copy
            </Button>
          </div>
        ) : null}
      </Card>

      <Card>
        <DataTable caption={admin ? "Every API token" : "Your API tokens"} columns={["Token", "Owner", "Scopes", "Created", "Expires", "Last used", "State", ""]}>
          {tokens.map((token) => (
            <tr key={token.id} className="border-t border-slate-100 align-top" data-testid={`token-${token.name}`}>
              <td className="py-2">
                <div className="font-medium">{token.name}</div>
                <div className="font-mono text-xs text-slate-500">gatehouse_{token.hint}…</div>
              </td>
              <td>
                {token.owner.username}
                {token.owner.serviceAccount ? <span className="ml-1 text-xs text-slate-500">(service account)</span> : null}
              </td>
              <td className="space-x-1">
                {token.scopes.map((scope) => (
                  <Badge key={scope}>{scope}</Badge>
                ))}
              </td>
              <td>{day(token.createdAt)}</td>
              <td>{day(token.expiresAt)}</td>
              <td>
                {day(token.lastUsedAt)}
                {token.lastUsedFrom ? <div className="text-xs text-slate-500">from {token.lastUsedFrom}</div> : null}
              </td>
              <td>{state(token)}</td>
              <td className="text-right">
                {state(token) === "active" ? (
                  <Button variant="danger" aria-label={`Revoke ${token.name}`} onClick={() => void revokeForm.submit("DELETE", `/api/tokens/${token.id}`)}>
                    Revoke
                  </Button>
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
        {tokens.length === 0 ? <p className="mt-2 text-sm text-slate-600">No tokens yet.</p> : null}
      </Card>

      {admin ? (
        <Card>
          <h2 className="text-lg font-semibold">Service accounts</h2>
          <p className="mb-3 text-sm text-slate-600">
            An account for automation: it never signs in and acts only through its tokens. Disable it on the Users page and all its tokens stop at once.
          </p>
          <ul className="mb-4 space-y-1 text-sm">
            {serviceAccounts.map((account) => (
              <li key={account.id}>
                <span className="font-mono">{account.username}</span> · {account.roles.length ? account.roles.join(", ") : "user"}
                {account.disabled ? " · disabled" : ""}
              </li>
            ))}
          </ul>
          <FormError message={accountForm.formError} />
          <form onSubmit={createAccount} className="flex flex-wrap items-end gap-4" noValidate aria-label="New service account">
            <Field id="account-name" label="Account name" error={accountForm.fieldErrors.name}>
              <TextInput id="account-name" name="accountName" invalid={Boolean(accountForm.fieldErrors.name)} />
            </Field>
            <fieldset className="text-sm">
              <legend className="font-medium text-slate-700">Roles</legend>
              {roleNames
                .filter((role) => role !== "user")
                .map((role) => (
                  <label key={role} className="mr-3 inline-flex items-center gap-1">
                    <input type="checkbox" name="accountRoles" value={role} />
                    {role}
                  </label>
                ))}
            </fieldset>
            <Button type="submit">Create service account</Button>
          </form>
        </Card>
      ) : null}
    </div>
  );
}
