"use client";
import { useRouter } from "next/navigation";
import { useOptimistic, useState, useTransition, type FormEvent } from "react";
import { Badge, Button, Card, DataTable, Field, FormError, Select, TextInput } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import type { Role } from "@/lib/protocol/domain";

const roles: Role[] = ["admin", "security", "reviewer", "user"];
const grantableRoles = roles.filter((role) => role !== "user");

const sourceLabels = { local: "local account", oidc: "SSO", service: "service account" } as const;

interface UserSummary {
  id: string;
  username: string;
  displayName: string | null;
  source: "local" | "oidc" | "service";
  groups: string[];
  idpRoles: Role[];
  grantedRoles: Role[];
  roles: Role[];
  disabled: boolean;
}

export function UserEditor({ users, mappings }: { users: UserSummary[]; mappings: { group: string; role: Role }[] }) {
  const router = useRouter();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [, startTransition] = useTransition();
  // A checkbox shows its new state at once; the refresh brings the server's word.
  const [shownUsers, showChange] = useOptimistic(users, (current, change: { id: string; update: Partial<UserSummary> }) =>
    current.map((user) => (user.id === change.id ? { ...user, ...change.update } : user)),
  );

  function change(user: UserSummary, update: { grantedRoles?: Role[]; disabled?: boolean }) {
    startTransition(async () => {
      showChange({ id: user.id, update });
      const result = await callApi("PATCH", `/api/admin/users/${user.id}`, update);
      setError(result.ok ? undefined : result.error);
      router.refresh();
    });
  }

  async function endSessions(user: UserSummary) {
    const reason = window.prompt(`End every live session of ${user.username}? Say why (it goes to the audit log and to them):`);
    if (!reason?.trim()) return;
    const result = await callApi<{ live: number; ended: number }>("POST", `/api/admin/users/${user.id}/end-sessions`, { reason });
    setError(result.ok ? undefined : result.error);
    setNotice(result.ok ? `${user.username}: ${result.data.ended} of ${result.data.live} live session(s) ended.` : undefined);
  }

  async function addMapping(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const result = await callApi("POST", "/api/admin/role-mappings", Object.fromEntries(new FormData(formElement)));
    setFieldErrors(result.ok ? {} : (result.fields ?? {}));
    setError(result.ok ? undefined : result.error);
    if (result.ok) formElement.reset();
    router.refresh();
  }

  async function removeMapping(mapping: { group: string; role: Role }) {
    const result = await callApi("DELETE", "/api/admin/role-mappings", mapping);
    setError(result.ok ? undefined : result.error);
    router.refresh();
  }

  return (
    <div className="space-y-6">
      <FormError message={error} />
      {notice ? (
        <p role="status" className="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
          {notice}
        </p>
      ) : null}
      <Card>
        <DataTable caption="Users" columns={["User", "Groups", "Roles from groups", "Granted roles", ""]}>
            {shownUsers.map((user) => (
              <tr key={user.id} className="border-t border-slate-100 align-top">
                <td className="py-2">
                  <div className="font-medium">{user.displayName ?? user.username}</div>
                  <div className="text-xs text-slate-500">
                    {user.username} · {sourceLabels[user.source]}
                    {user.disabled ? " · disabled" : ""}
                  </div>
                </td>
                <td className="py-2 text-slate-600">{user.groups.join(", ") || "—"}</td>
                <td className="space-x-1 py-2">
                  {user.idpRoles.length ? user.idpRoles.map((role) => <Badge key={role}>{role}</Badge>) : <span className="text-slate-400">—</span>}
                </td>
                <td className="py-2">
                  <fieldset>
                    <legend className="sr-only">Roles granted to {user.username}</legend>
                    {grantableRoles.map((role) => (
                      <label key={role} className="mr-3 inline-flex items-center gap-1">
                        <input
                          type="checkbox"
                          checked={user.grantedRoles.includes(role)}
                          onChange={(event) =>
                            change(user, {
                              grantedRoles: event.target.checked ? [...user.grantedRoles, role] : user.grantedRoles.filter((held) => held !== role),
                            })
                          }
                        />
                        {role}
                      </label>
                    ))}
                  </fieldset>
                </td>
                <td className="space-x-2 whitespace-nowrap py-2 text-right">
                  <Button variant="secondary" onClick={() => void endSessions(user)} aria-label={`End the sessions of ${user.username}`}>
                    End sessions
                  </Button>
                  <Button variant={user.disabled ? "secondary" : "danger"} onClick={() => change(user, { disabled: !user.disabled })}>
                    {user.disabled ? "Enable" : "Disable"}
                  </Button>
                </td>
              </tr>
            ))}
        </DataTable>
      </Card>

      <Card>
        <h2 className="text-lg font-semibold">Group → role mapping</h2>
        <p className="mb-4 text-sm text-slate-600">Members of an identity-provider group get the role at once; a role taken away ends what it allowed, watching included.</p>
        <ul className="mb-4 space-y-1 text-sm">
          {mappings.map((mapping) => (
            <li key={`${mapping.group}=${mapping.role}`} className="flex items-center gap-3">
              <span className="font-mono">{mapping.group}</span> → <Badge>{mapping.role}</Badge>
              <Button variant="danger" onClick={() => removeMapping(mapping)} aria-label={`Remove ${mapping.group} to ${mapping.role}`}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
        <form onSubmit={addMapping} className="flex items-end gap-3" noValidate>
          <Field id="group" label="Group" error={fieldErrors.group}>
            <TextInput id="group" invalid={Boolean(fieldErrors.group)} />
          </Field>
          <Field id="role" label="Role" error={fieldErrors.role}>
            <Select id="role" defaultValue="security">
              {grantableRoles.map((role) => (
                <option key={role}>{role}</option>
              ))}
            </Select>
          </Field>
          <Button type="submit">Add mapping</Button>
        </form>
      </Card>
    </div>
  );
}
