"use client";
import { useState, type FormEvent } from "react";
import { Badge, Button, Card, DataTable, EditorCard, Field, Select, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";
import { parseWindowLines, windowLines } from "@/lib/domain/governance/windows";
import { roleNames } from "@/lib/protocol/domain";
import type { AccessMode, WeeklyWindow } from "@/lib/protocol/governance";

interface PolicySummary {
  id: string;
  name: string;
  description: string;
  targetNames: string[];
  targetTags: string[];
  subjectUsers: string[];
  subjectGroups: string[];
  access: AccessMode;
  approverUsers: string[];
  approverGroups: string[];
  approverRoles: string[];
  requiredApprovals: number;
  reviewerUsers: string[];
  reviewerGroups: string[];
  auditorUsers: string[];
  auditorGroups: string[];
  auditSamplePercent: number;
  weeklyWindows: WeeklyWindow[];
  timeZone: string;
  validFrom: string | null;
  validUntil: string | null;
  sourceNetworks: string[];
  maxDurationMinutes: number;
  maxConcurrentSessions: number;
  requireRecording: boolean;
  allowCredentialReveal: boolean;
  rotateAfterCheckout: boolean;
  requireNoticeAcceptance: boolean;
}

const accessLabels: Record<AccessMode, string> = { standing: "Standing access", approval: "Approved request", auto_approve: "Request, approved at once" };
const listFields = ["targetNames", "targetTags", "subjectUsers", "subjectGroups", "approverUsers", "approverGroups", "reviewerUsers", "reviewerGroups", "auditorUsers", "auditorGroups", "sourceNetworks"] as const;

export function PolicyEditor({ policies }: { policies: PolicySummary[] }) {
  const [editing, setEditing] = useState<PolicySummary | null>(null);
  const { formError, fieldErrors, setFieldErrors, submit } = useApiForm();

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const windows = parseWindowLines(String(form.get("weeklyWindows") ?? ""));
    if ("problem" in windows) {
      setFieldErrors({ weeklyWindows: windows.problem });
      return;
    }
    const date = (field: string) => (form.get(field) ? new Date(String(form.get(field))).toISOString() : null);
    const body = {
      ...Object.fromEntries(listFields.map((field) => [field, String(form.get(field) ?? "")])),
      name: form.get("name"),
      description: form.get("description"),
      access: form.get("access"),
      approverRoles: form.getAll("approverRoles"),
      requiredApprovals: form.get("requiredApprovals"),
      auditSamplePercent: form.get("auditSamplePercent"),
      weeklyWindows: windows,
      timeZone: form.get("timeZone"),
      validFrom: date("validFrom"),
      validUntil: date("validUntil"),
      maxDurationMinutes: form.get("maxDurationMinutes"),
      maxConcurrentSessions: form.get("maxConcurrentSessions"),
      requireRecording: form.get("requireRecording") === "on",
      allowCredentialReveal: form.get("allowCredentialReveal") === "on",
      rotateAfterCheckout: form.get("rotateAfterCheckout") === "on",
      requireNoticeAcceptance: form.get("requireNoticeAcceptance") === "on",
    };
    if (await (editing ? submit("PATCH", `/api/admin/policies/${editing.id}`, body) : submit("POST", "/api/admin/policies", body))) setEditing(null);
  }

  async function remove(policy: PolicySummary) {
    if (!window.confirm(`Delete policy ${policy.name}? People it names lose what it grants.`)) return;
    await submit("DELETE", `/api/admin/policies/${policy.id}`);
  }

  const text = (id: (typeof listFields)[number], label: string, hint?: string) => (
    <Field id={id} label={label} error={fieldErrors[id]} hint={hint}>
      <TextInput id={id} defaultValue={editing?.[id].join(", ")} invalid={Boolean(fieldErrors[id])} />
    </Field>
  );
  const localInput = (iso: string | null | undefined) => (iso ? iso.slice(0, 16) : "");

  return (
    <div className="grid items-start gap-6 grid-cols-[minmax(0,1fr)] lg:grid-cols-[minmax(0,1fr)_26rem]">
      <Card>
        {policies.length === 0 ? (
          <p className="text-sm text-slate-600">No policies yet: targets follow their own allow lists, at any time, from anywhere.</p>
        ) : (
          <DataTable caption="Access policies" columns={["Name", "Targets", "For", "Access", "Conditions", ""]}>
            {policies.map((policy) => (
              <tr key={policy.id} className="border-t border-slate-100 align-top">
                <td className="py-2 font-medium">{policy.name}</td>
                <td className="py-2">{[...policy.targetNames, ...policy.targetTags.map((tag) => `#${tag}`)].join(", ")}</td>
                <td className="py-2">{[...policy.subjectUsers, ...policy.subjectGroups.map((group) => `@${group}`)].join(", ")}</td>
                <td className="py-2">
                  <Badge>{accessLabels[policy.access]}</Badge>
                  {policy.access === "approval" ? <span className="block text-xs text-slate-600">{policy.requiredApprovals} approval(s)</span> : null}
                </td>
                <td className="py-2 text-xs text-slate-600">
                  {policy.weeklyWindows.length > 0 ? <span className="block whitespace-pre-line">{windowLines(policy.weeklyWindows)} ({policy.timeZone})</span> : null}
                  {policy.sourceNetworks.length > 0 ? <span className="block">from {policy.sourceNetworks.join(", ")}</span> : null}
                  {policy.maxDurationMinutes > 0 ? <span className="block">up to {policy.maxDurationMinutes} min</span> : null}
                  {policy.maxConcurrentSessions > 0 ? <span className="block">{policy.maxConcurrentSessions} session(s) at once</span> : null}
                </td>
                <td className="space-x-2 py-2 text-right whitespace-nowrap">
                  <Button variant="secondary" onClick={() => setEditing(policy)} aria-label={`Edit policy ${policy.name}`}>
                    Edit
                  </Button>
                  <Button variant="danger" onClick={() => remove(policy)} aria-label={`Delete policy ${policy.name}`}>
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Card>
      <EditorCard
        title={editing ? `Edit ${editing.name}` : "Add a policy"}
        formKey={editing?.id ?? "new"}
        onSubmit={save}
        formError={formError}
        submitLabel={editing ? "Save" : "Add policy"}
        onCancel={editing ? () => setEditing(null) : undefined}
      >
        <Field id="name" label="Name" error={fieldErrors.name}>
          <TextInput id="name" defaultValue={editing?.name} invalid={Boolean(fieldErrors.name)} />
        </Field>
        <Field id="description" label="Description" error={fieldErrors.description}>
          <TextInput id="description" defaultValue={editing?.description} />
        </Field>
        {text("targetNames", "Targets by name", "Comma-separated")}
        {text("targetTags", "Targets by tag")}
        {text("subjectUsers", "For users", "Usernames or e-mail addresses")}
        {text("subjectGroups", "For groups", "IdP groups")}
        <Field id="access" label="Access" error={fieldErrors.access}>
          <Select id="access" defaultValue={editing?.access ?? "approval"}>
            {Object.entries(accessLabels).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        {text("approverUsers", "Approved by users")}
        {text("approverGroups", "Approved by groups")}
        <fieldset>
          <legend className="block text-sm font-medium text-slate-700">Approved by roles</legend>
          <div className="mt-1 flex flex-wrap gap-3 text-sm">
            {roleNames.map((role) => (
              <label key={role} className="flex items-center gap-1">
                <input type="checkbox" name="approverRoles" value={role} defaultChecked={editing?.approverRoles.includes(role)} />
                {role}
              </label>
            ))}
          </div>
        </fieldset>
        <Field id="requiredApprovals" label="Approvals needed" error={fieldErrors.requiredApprovals} hint="The requester never counts">
          <TextInput id="requiredApprovals" type="number" min={1} defaultValue={editing?.requiredApprovals ?? 1} />
        </Field>
        {text("reviewerUsers", "Recordings open to reviewers", "Users with the reviewer role; others ask with a justification")}
        {text("reviewerGroups", "Recordings open to reviewer groups")}
        {text("auditorUsers", "Auditors")}
        {text("auditorGroups", "Auditor groups")}
        <Field id="auditSamplePercent" label="Sessions given to auditors (%)" error={fieldErrors.auditSamplePercent} hint="100: every session of these targets; 0: none">
          <TextInput id="auditSamplePercent" type="number" min={0} max={100} defaultValue={editing?.auditSamplePercent ?? 0} />
        </Field>
        <Field id="weeklyWindows" label="Weekly windows" error={fieldErrors.weeklyWindows} hint="One per line, e.g. Mon-Fri 08:00-18:00. Empty: at any time">
          <textarea id="weeklyWindows" name="weeklyWindows" rows={2} defaultValue={editing ? windowLines(editing.weeklyWindows) : ""} className="mt-1 block w-full rounded-md border border-slate-300 px-2.5 py-1.5 font-mono text-sm" />
        </Field>
        <Field id="timeZone" label="Time zone" error={fieldErrors.timeZone}>
          <TextInput id="timeZone" defaultValue={editing?.timeZone ?? "UTC"} invalid={Boolean(fieldErrors.timeZone)} />
        </Field>
        <div className="grid grid-cols-2 gap-3">
          <Field id="validFrom" label="From" error={fieldErrors.validFrom}>
            <TextInput id="validFrom" type="datetime-local" defaultValue={localInput(editing?.validFrom)} />
          </Field>
          <Field id="validUntil" label="Until" error={fieldErrors.validUntil}>
            <TextInput id="validUntil" type="datetime-local" defaultValue={localInput(editing?.validUntil)} />
          </Field>
        </div>
        {text("sourceNetworks", "From networks", "CIDRs such as 10.0.0.0/8; empty: anywhere")}
        <div className="grid grid-cols-2 gap-3">
          <Field id="maxDurationMinutes" label="Longest (minutes)" error={fieldErrors.maxDurationMinutes} hint="0: no limit">
            <TextInput id="maxDurationMinutes" type="number" min={0} defaultValue={editing?.maxDurationMinutes ?? 0} />
          </Field>
          <Field id="maxConcurrentSessions" label="Sessions at once" error={fieldErrors.maxConcurrentSessions} hint="0: no limit">
            <TextInput id="maxConcurrentSessions" type="number" min={0} defaultValue={editing?.maxConcurrentSessions ?? 0} />
          </Field>
        </div>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="requireRecording" defaultChecked={editing?.requireRecording} /> Record sessions even where the target is not recorded
        </label>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="requireNoticeAcceptance" defaultChecked={editing?.requireNoticeAcceptance} /> Accept the logon notice (Settings) before connecting
        </label>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="allowCredentialReveal" defaultChecked={editing?.allowCredentialReveal} /> During an approved request, show the password (never a key)
        </label>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="rotateAfterCheckout" defaultChecked={editing?.rotateAfterCheckout ?? true} /> Mark a shown password for rotation
        </label>
      </EditorCard>
    </div>
  );
}
