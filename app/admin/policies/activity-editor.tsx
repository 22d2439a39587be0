"use client";
import { useState, type FormEvent } from "react";
import { Button, Card, DataTable, EditorCard, Field, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";

interface ActivitySummary {
  id: string;
  name: string;
  description: string;
  policyIds: string[];
  ticketPattern: string | null;
}

/** What requests are for: each activity names the policies a request may be made under and the ticket it needs. */
export function ActivityEditor({ activities, policies }: { activities: ActivitySummary[]; policies: { id: string; name: string }[] }) {
  const [editing, setEditing] = useState<ActivitySummary | null>(null);
  const { formError, fieldErrors, submit } = useApiForm();

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = { name: form.get("activityName"), description: form.get("activityDescription"), policyIds: form.getAll("policyIds"), ticketPattern: form.get("ticketPattern") || null };
    if (await (editing ? submit("PATCH", `/api/admin/activities/${editing.id}`, body) : submit("POST", "/api/admin/activities", body))) setEditing(null);
  }

  async function remove(activity: ActivitySummary) {
    if (!window.confirm(`Delete activity ${activity.name}?`)) return;
    await submit("DELETE", `/api/admin/activities/${activity.id}`);
  }

  return (
    <div className="grid items-start gap-6 grid-cols-[minmax(0,1fr)] lg:grid-cols-[minmax(0,1fr)_22rem]">
      <Card>
        {activities.length === 0 ? (
          <p className="text-sm text-slate-600">No activities yet. People request access for an activity, such as &ldquo;Database maintenance&rdquo;.</p>
        ) : (
          <DataTable caption="Activities" columns={["Name", "Policies", "Ticket", ""]}>
            {activities.map((activity) => (
              <tr key={activity.id} className="border-t border-slate-100">
                <td className="py-2 font-medium">{activity.name}</td>
                <td className="py-2">{activity.policyIds.map((id) => policies.find((policy) => policy.id === id)?.name).join(", ")}</td>
                <td className="py-2 font-mono text-xs">{activity.ticketPattern ?? "—"}</td>
                <td className="space-x-2 py-2 text-right whitespace-nowrap">
                  <Button variant="secondary" onClick={() => setEditing(activity)} aria-label={`Edit activity ${activity.name}`}>
                    Edit
                  </Button>
                  <Button variant="danger" onClick={() => remove(activity)} aria-label={`Delete activity ${activity.name}`}>
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Card>
      <EditorCard
        title={editing ? `Edit ${editing.name}` : "Add an activity"}
        formKey={editing?.id ?? "new"}
        onSubmit={save}
        formError={formError}
        submitLabel={editing ? "Save" : "Add activity"}
        onCancel={editing ? () => setEditing(null) : undefined}
      >
        <Field id="activityName" label="Name" error={fieldErrors.name}>
          <TextInput id="activityName" defaultValue={editing?.name} invalid={Boolean(fieldErrors.name)} />
        </Field>
        <Field id="activityDescription" label="Description" error={fieldErrors.description}>
          <TextInput id="activityDescription" defaultValue={editing?.description} />
        </Field>
        <fieldset>
          <legend className="block text-sm font-medium text-slate-700">Policies</legend>
          {policies.map((policy) => (
            <label key={policy.id} className="mt-1 flex items-center gap-2 text-sm">
              <input type="checkbox" name="policyIds" value={policy.id} defaultChecked={editing?.policyIds.includes(policy.id)} />
              {policy.name}
            </label>
          ))}
          {fieldErrors.policyIds ? (
            <p role="alert" className="mt-1 text-xs text-red-700">
              {fieldErrors.policyIds}
            </p>
          ) : null}
        </fieldset>
        <Field id="ticketPattern" label="Ticket format (regular expression)" error={fieldErrors.ticketPattern} hint="Empty: no ticket needed. Example: ^(INC|CHG)\d{6}$">
          <TextInput id="ticketPattern" defaultValue={editing?.ticketPattern ?? ""} invalid={Boolean(fieldErrors.ticketPattern)} />
        </Field>
      </EditorCard>
    </div>
  );
}
