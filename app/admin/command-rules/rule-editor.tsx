"use client";
// The command policy's rules: a list with the built-in pack, and a form that checks a rule's pattern against its
// test lines on every save. The limits of reading commands off a terminal are said here, where rules are written.
import { useState, type FormEvent } from "react";
import { Badge, Button, Card, DataTable, EditorCard, Field, Select, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";
import { actionsByKind, ruleKindSchema, severitySchema, type RuleAction, type RuleKind } from "@/lib/protocol/command-rules";

interface RuleSummary {
  id: string;
  builtinKey: string | null;
  name: string;
  description: string;
  enabled: boolean;
  kind: RuleKind;
  matchMode: "regex" | "words";
  pattern: string;
  action: RuleAction;
  severity: "low" | "medium" | "high" | "critical";
  holdSeconds: number;
  targetNames: string[];
  targetTags: string[];
  subjectUsers: string[];
  subjectGroups: string[];
  protocols: string[];
  policyNames: string[];
  testMatch: string[];
  testNoMatch: string[];
}

const kindLabels: Record<RuleKind, string> = {
  command: "Command typed (terminal)",
  output: "Line printed (terminal)",
  web_request: "Web request (method and path)",
  web_status: "Web response status",
  clipboard: "Clipboard (desktop)",
  window_title: "Window title (RemoteApp desktop)",
};

const actionLabels: Record<RuleAction, string> = {
  alert: "Alert security",
  block: "Block",
  hold: "Hold for approval",
  lock: "Lock the session",
  pause: "Pause the session",
  terminate: "Terminate the session",
  terminate_and_cancel: "Terminate and cancel access",
};

const patternHints: Record<RuleKind, string> = {
  command: "A regular expression (case-insensitive), or words one per line. Matched against the whole line and against each command in it.",
  output: "A regular expression (case-insensitive), or words one per line, matched against each line the target prints.",
  web_request: "A method and a path: POST /api/users/*/delete. * is part of one path segment, ** any number; * as the method matches any.",
  web_status: "Status codes: 403, 5xx, or a list such as 401, 403.",
  clipboard: "paste (into the desktop), copy (out of it) or any, with a least size if you like: copy >= 64k. Only a paste can be blocked.",
  window_title:
    "A regular expression (case-insensitive), or words one per line, matched against each title a window takes. Only RDP targets that run a RemoteApp program report titles; full desktops and VNC do not.",
};

const list = (values: string[]) => values.join(", ");

export function RuleEditor({ rules }: { rules: RuleSummary[] }) {
  const [editing, setEditing] = useState<RuleSummary | null>(null);
  const [kind, setKind] = useState<RuleKind>("command");
  const { formError, fieldErrors, submit } = useApiForm();

  function edit(rule: RuleSummary | null) {
    setEditing(rule);
    setKind(rule?.kind ?? "command");
  }

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "");
    const body = {
      name: text("ruleName"),
      description: text("ruleDescription"),
      enabled: form.get("enabled") === "on",
      kind,
      matchMode: text("matchMode") || "regex",
      pattern: text("pattern"),
      action: text("action"),
      severity: text("severity"),
      holdSeconds: text("holdSeconds") || 120,
      targetNames: text("targetNames"),
      targetTags: text("targetTags"),
      subjectUsers: text("subjectUsers"),
      subjectGroups: text("subjectGroups"),
      protocols: form.getAll("protocols"),
      policyNames: text("policyNames"),
      testMatch: text("testMatch"),
      testNoMatch: text("testNoMatch"),
    };
    if (await (editing ? submit("PATCH", `/api/admin/command-rules/${editing.id}`, body) : submit("POST", "/api/admin/command-rules", body))) edit(null);
  }

  async function remove(rule: RuleSummary) {
    if (!window.confirm(`Delete rule ${rule.name}?`)) return;
    await submit("DELETE", `/api/admin/command-rules/${rule.id}`);
  }

  return (
    <div className="grid items-start gap-6 grid-cols-[minmax(0,1fr)] lg:grid-cols-[minmax(0,1fr)_26rem]">
      <Card className="overflow-x-auto">
        <DataTable caption="Rules" columns={["Rule", "Looks at", "Action", "Scope", ""]}>
          {rules.map((rule) => (
            <tr key={rule.id} className={`border-t border-slate-100 align-top ${rule.enabled ? "" : "text-slate-400"}`} data-testid="command-rule">
              <td className="py-2">
                <div className="font-medium">
                  {rule.name} {rule.builtinKey ? <Badge>built-in</Badge> : null} {rule.enabled ? null : <Badge>off</Badge>}
                </div>
                <div className="text-xs text-slate-600">{rule.description}</div>
              </td>
              <td className="py-2 text-xs">{kindLabels[rule.kind]}</td>
              <td className="py-2 text-xs">
                {actionLabels[rule.action]} · {rule.severity}
              </td>
              <td className="py-2 text-xs">
                {[list(rule.targetNames), list(rule.targetTags.map((tag) => `#${tag}`)), list(rule.subjectUsers), list(rule.subjectGroups), list(rule.protocols), list(rule.policyNames)].filter(Boolean).join(" · ") || "everyone, everywhere"}
              </td>
              <td className="space-x-2 py-2 text-right whitespace-nowrap">
                <Button variant="secondary" onClick={() => edit(rule)} aria-label={`Edit rule ${rule.name}`}>
                  Edit
                </Button>
                {rule.builtinKey ? null : (
                  <Button variant="danger" onClick={() => remove(rule)} aria-label={`Delete rule ${rule.name}`}>
                    Delete
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      </Card>
      <EditorCard
        title={editing ? `Edit ${editing.name}` : "Add a rule"}
        formKey={editing?.id ?? "new"}
        onSubmit={save}
        formError={formError}
        submitLabel={editing ? "Save" : "Add rule"}
        onCancel={editing ? () => edit(null) : undefined}
      >
        <Field id="ruleName" label="Name" error={fieldErrors.name}>
          <TextInput id="ruleName" defaultValue={editing?.name} invalid={Boolean(fieldErrors.name)} />
        </Field>
        <Field id="ruleDescription" label="Description" error={fieldErrors.description}>
          <TextInput id="ruleDescription" defaultValue={editing?.description} />
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="enabled" defaultChecked={editing?.enabled ?? true} />
          Enabled
        </label>
        <Field id="kind" label="Looks at" error={fieldErrors.kind}>
          <Select id="kind" value={kind} onChange={(event) => setKind(event.target.value as RuleKind)}>
            {ruleKindSchema.options.map((option) => (
              <option key={option} value={option}>
                {kindLabels[option]}
              </option>
            ))}
          </Select>
        </Field>
        {kind === "command" || kind === "output" ? (
          <Field id="matchMode" label="Pattern is" error={fieldErrors.matchMode}>
            <Select id="matchMode" defaultValue={editing?.matchMode ?? "regex"}>
              <option value="regex">A regular expression</option>
              <option value="words">Words or phrases, one per line</option>
            </Select>
          </Field>
        ) : null}
        <Field id="pattern" label="Pattern" hint={patternHints[kind]} error={fieldErrors.pattern}>
          <textarea id="pattern" name="pattern" rows={3} defaultValue={editing?.pattern} aria-invalid={Boolean(fieldErrors.pattern) || undefined} className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-sm" />
        </Field>
        <Field id="action" label="Action" error={fieldErrors.action}>
          <Select id="action" defaultValue={editing?.action ?? "alert"}>
            {actionsByKind[kind].map((action) => (
              <option key={action} value={action}>
                {actionLabels[action]}
              </option>
            ))}
          </Select>
        </Field>
        <Field id="severity" label="Severity" error={fieldErrors.severity}>
          <Select id="severity" defaultValue={editing?.severity ?? "medium"}>
            {severitySchema.options.map((severity) => (
              <option key={severity} value={severity}>
                {severity}
              </option>
            ))}
          </Select>
        </Field>
        <Field id="holdSeconds" label="A held command waits (seconds)" hint="Then it is denied." error={fieldErrors.holdSeconds}>
          <TextInput id="holdSeconds" type="number" defaultValue={editing?.holdSeconds ?? 120} invalid={Boolean(fieldErrors.holdSeconds)} />
        </Field>
        <fieldset className="space-y-2 rounded-md border border-slate-200 p-3">
          <legend className="px-1 text-sm font-medium text-slate-700">Scope (empty: all)</legend>
          <Field id="targetNames" label="Targets" error={fieldErrors.targetNames}>
            <TextInput id="targetNames" defaultValue={list(editing?.targetNames ?? [])} placeholder="db-01, db-02" />
          </Field>
          <Field id="targetTags" label="Target tags" error={fieldErrors.targetTags}>
            <TextInput id="targetTags" defaultValue={list(editing?.targetTags ?? [])} />
          </Field>
          <Field id="subjectUsers" label="Users" error={fieldErrors.subjectUsers}>
            <TextInput id="subjectUsers" defaultValue={list(editing?.subjectUsers ?? [])} />
          </Field>
          <Field id="subjectGroups" label="Groups" error={fieldErrors.subjectGroups}>
            <TextInput id="subjectGroups" defaultValue={list(editing?.subjectGroups ?? [])} />
          </Field>
          <Field id="policyNames" label="Access policies" error={fieldErrors.policyNames}>
            <TextInput id="policyNames" defaultValue={list(editing?.policyNames ?? [])} />
          </Field>
          <div className="flex gap-3 text-sm">
            {["ssh", "rdp", "vnc", "web"].map((protocol) => (
              <label key={protocol} className="flex items-center gap-1">
                <input type="checkbox" name="protocols" value={protocol} defaultChecked={editing?.protocols.includes(protocol)} />
                {protocol.toUpperCase()}
              </label>
            ))}
          </div>
        </fieldset>
        <Field id="testMatch" label="Lines it must match (one per line)" error={fieldErrors.testMatch}>
          <textarea id="testMatch" name="testMatch" rows={3} defaultValue={editing?.testMatch.join("\n")} className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-sm" />
        </Field>
        <Field id="testNoMatch" label="Lines it must not match" error={fieldErrors.testNoMatch}>
          <textarea id="testNoMatch" name="testNoMatch" rows={3} defaultValue={editing?.testNoMatch.join("\n")} className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-sm" />
        </Field>
        {kind === "command" ? (
          <p data-testid="rule-limits" className="rounded-md bg-slate-50 p-2 text-xs text-slate-600">
            Seen: the line as the shell shows it at Enter (after editing, history recall, completion and pastes), split at ; && || | and
            newlines, with $( ), backticks, quotes, backslashes and \ continuations read as the shell reads them, and sudo, env and
            similar wrappers looked through. Not seen: variables and aliases ($a -rf /), commands decoded or built at run time (base64 |
            sh), scripts written to a file and run, what is typed inside an editor or pager, and a whole line typed ahead with its editing
            keys (arrows, Ctrl-A, history) and Enter while a command still runs or with echo turned off; plain text typed that way is
            judged as typed, and a line whose editing keys came before the prompt but whose Enter came after it is not run.
          </p>
        ) : null}
      </EditorCard>
    </div>
  );
}
