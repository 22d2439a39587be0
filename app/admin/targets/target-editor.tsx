"use client";
import Link from "next/link";
import { targetPageSize } from "@/lib/protocol/target-search";
import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { Badge, Button, Card, DataTable, EditorCard, Field, ProtocolOptions, Select, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";
import { defaultPorts, keyboardLayouts, type Protocol, type RdpSecurity } from "@/lib/protocol/domain";

export interface EditableTarget {
  id: string;
  name: string;
  protocol: Protocol;
  host: string;
  port: number;
  tags: string[];
  allowedUsers: string[];
  allowedGroups: string[];
  credentialId: string | null;
  hostKeyFingerprint: string | null;
  legacyAlgorithms: boolean;
  rdpSecurity: RdpSecurity;
  keyboardLayout: string;
  remoteApp: string | null;
  clipboardCopy: boolean;
  clipboardPaste: boolean;
  internalUrl: string | null;
  webAuthHeader: string | null;
  maskAllInputs: boolean;
  idleTimeoutSeconds: number;
  sessionTtlSeconds: number;
  extensionSeconds: number;
  maxSessionSeconds: number;
  retentionDays: number;
  recordSessions: boolean;
  announceWatchers: boolean;
}

export interface CancelledAccess {
  targetId: string;
  targetName: string;
  userId: string;
  username: string;
  revokedBy: string;
  reason: string;
  revokedAt: string;
}

interface Props {
  /** The page of targets the list shows, found by the page (the form edits any). */
  targets: EditableTarget[];
  /** Where the list goes on: the next page's address, and whether this is a later page. */
  paging: { next: string | null; first: string | null };
  /** Targets there are, whatever the search. */
  total: number;
  credentials: { id: string; name: string; username: string }[];
  cancelledAccess: CancelledAccess[];
}

const blank: EditableTarget = {
  id: "",
  name: "",
  protocol: "ssh",
  host: "",
  port: 22,
  tags: [],
  allowedUsers: [],
  allowedGroups: [],
  credentialId: null,
  hostKeyFingerprint: null,
  legacyAlgorithms: false,
  rdpSecurity: "any",
  keyboardLayout: "en-us-qwerty",
  remoteApp: null,
  clipboardCopy: true,
  clipboardPaste: true,
  internalUrl: null,
  webAuthHeader: null,
  maskAllInputs: false,
  idleTimeoutSeconds: 900,
  sessionTtlSeconds: 0,
  extensionSeconds: 0,
  maxSessionSeconds: 0,
  retentionDays: 0,
  recordSessions: true,
  announceWatchers: true,
};

/** The form speaks minutes; the API speaks seconds. */
const minuteFields = { sessionTtlMinutes: "sessionTtlSeconds", extensionMinutes: "extensionSeconds", maxSessionMinutes: "maxSessionSeconds", idleTimeoutMinutes: "idleTimeoutSeconds" } as const;

function formToTarget(form: FormData) {
  const body: Record<string, unknown> = Object.fromEntries(form);
  for (const [minutes, seconds] of Object.entries(minuteFields)) {
    const value = String(body[minutes] ?? "").trim();
    delete body[minutes];
    body[seconds] = value === "" ? 0 : Number(value) * 60;
  }
  body.legacyAlgorithms = form.get("legacyAlgorithms") === "on";
  body.recordSessions = form.get("recordSessions") === "on";
  body.announceWatchers = form.get("announceWatchers") === "on";
  body.maskAllInputs = form.get("maskAllInputs") === "on";
  body.clipboardCopy = form.get("clipboardCopy") === "on";
  body.clipboardPaste = form.get("clipboardPaste") === "on";
  // The RemoteApp field stays in the form (hidden) when another protocol is chosen.
  if (body.protocol !== "rdp") body.remoteApp = null;
  return body;
}

/** A group of the form's fields under a heading. */
function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="space-y-3 border-t border-slate-200 pt-3 first:border-t-0 first:pt-0">
      <legend className="text-sm font-semibold text-slate-800">{title}</legend>
      {children}
    </fieldset>
  );
}

function Checkbox({ id, checked, children }: { id: string; checked: boolean; children: ReactNode }) {
  return (
    <div className="flex items-center gap-2">
      <input id={id} name={id} type="checkbox" defaultChecked={checked} />
      <label htmlFor={id} className="text-sm text-slate-700">
        {children}
      </label>
    </div>
  );
}

export function TargetEditor({ targets, paging, total, credentials, cancelledAccess }: Props) {
  const [editing, setEditing] = useState<EditableTarget>(blank);
  const { formError, fieldErrors, submit } = useApiForm();
  const [busy, setBusy] = useState(false);
  // The protocol's settings and the warning follow the choices as they are made, and the target being edited.
  const [protocol, setProtocol] = useState<Protocol>(blank.protocol);
  const [standardRdpSecurity, setStandardRdpSecurity] = useState(false);
  useEffect(() => {
    setProtocol(editing.protocol);
    setStandardRdpSecurity(editing.rdpSecurity === "rdp");
  }, [editing]);
  const web = protocol === "web";
  const desktop = protocol === "rdp" || protocol === "vnc";

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    setBusy(true);
    const form = formToTarget(new FormData(formElement));
    const saved = await (editing.id ? submit("PATCH", `/api/admin/targets/${editing.id}`, form) : submit("POST", "/api/admin/targets", form));
    setBusy(false);
    if (!saved) return;
    setEditing(blank);
    formElement.reset();
  }

  async function remove(target: EditableTarget) {
    if (!window.confirm(`Delete target ${target.name}? Its session history stays.`)) return;
    await submit("DELETE", `/api/admin/targets/${target.id}`);
  }

  async function restore(cancelled: CancelledAccess, targetName: string) {
    if (!window.confirm(`Give ${cancelled.username} access to ${targetName} again?`)) return;
    await submit("DELETE", `/api/admin/targets/${cancelled.targetId}/revocations/${cancelled.userId}`);
  }

  return (
    <div className="grid items-start gap-6 grid-cols-[minmax(0,1fr)] lg:grid-cols-[minmax(0,1fr)_22rem]">
      <div className="space-y-6">
      <Card>
        {targets.length === 0 ? (
          <p className="text-sm text-slate-600">{total === 0 ? "No targets yet. Add the first one with the form." : "No target matches this search."}</p>
        ) : (
          <DataTable caption="Targets" columns={["Name", "Address", "Allowed", ""]}>
              {targets.map((target) => (
                <tr key={target.id} className="border-t border-slate-100 align-top">
                  <td className="py-2">
                    <div className="font-medium">{target.name}</div>
                    <div className="flex flex-wrap gap-1">
                      <Badge>{target.protocol.toUpperCase()}</Badge>
                      {target.tags.map((tag) => (
                        <a key={tag} href={`/admin/targets?tag=${encodeURIComponent(tag)}`} aria-label={`Targets tagged ${tag}`}>
                          <Badge>{tag}</Badge>
                        </a>
                      ))}
                    </div>
                  </td>
                  <td className="py-2">
                    <div className="font-mono">
                      {target.host}:{target.port}
                    </div>
                    {target.protocol === "ssh" ? (
                      <div className="max-w-56 truncate font-mono text-xs text-slate-500" title={target.hostKeyFingerprint ?? undefined}>
                        {target.hostKeyFingerprint ?? "host key: pinned on first use"}
                      </div>
                    ) : null}
                  </td>
                  <td className="py-2 text-slate-600">{[...target.allowedUsers, ...target.allowedGroups.map((group) => `group ${group}`)].join(", ") || "nobody"}</td>
                  <td className="space-x-2 py-2 text-right whitespace-nowrap">
                    <Button variant="secondary" onClick={() => setEditing(target)} aria-label={`Edit ${target.name}`}>
                      Edit
                    </Button>
                    <Button variant="danger" onClick={() => remove(target)} aria-label={`Delete ${target.name}`}>
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
          </DataTable>
        )}
        {paging.first || paging.next ? (
          <nav aria-label="Pages of targets" className="mt-3 flex gap-4 text-sm font-medium text-indigo-700">
            {paging.first ? <Link href={paging.first}>First page</Link> : null}
            {paging.next ? <Link href={paging.next}>Next {targetPageSize} targets</Link> : null}
          </nav>
        ) : null}
      </Card>
      {cancelledAccess.length > 0 ? (
        <Card>
          <DataTable caption="Cancelled access" columns={["User", "Target", "Cancelled", "Reason", ""]}>
            {cancelledAccess.map((cancelled) => {
              const { targetName } = cancelled;
              return (
                <tr key={`${cancelled.targetId}-${cancelled.userId}`} className="border-t border-slate-100 align-top">
                  <td className="py-2">{cancelled.username}</td>
                  <td className="py-2">{targetName}</td>
                  <td className="py-2 text-slate-600">
                    {cancelled.revokedAt.slice(0, 16).replace("T", " ")} by {cancelled.revokedBy}
                  </td>
                  <td className="py-2 text-slate-600">{cancelled.reason}</td>
                  <td className="py-2 text-right">
                    <Button variant="secondary" onClick={() => restore(cancelled, targetName)} aria-label={`Restore ${cancelled.username}'s access to ${targetName}`}>
                      Restore access
                    </Button>
                  </td>
                </tr>
              );
            })}
          </DataTable>
        </Card>
      ) : null}
      </div>

      <EditorCard
        title={editing.id ? `Edit ${editing.name}` : "Add a target"}
        formKey={editing.id || "new"}
        onSubmit={save}
        formError={formError}
        submitLabel={editing.id ? "Save changes" : "Add target"}
        submitDisabled={busy}
        onCancel={editing.id ? () => setEditing(blank) : undefined}
      >
        <Section title="Target">
          <Field id="name" label="Name" error={fieldErrors.name} hint="Letters, digits, dots, dashes">
            <TextInput id="name" defaultValue={editing.name} invalid={Boolean(fieldErrors.name)} required />
          </Field>
          <Field id="protocol" label="Protocol" error={fieldErrors.protocol} hint="The form shows the settings of the protocol chosen.">
            <Select
              id="protocol"
              defaultValue={editing.protocol}
              onChange={(event) => {
                const chosen = event.target.value as Protocol;
                setProtocol(chosen);
                const port = document.getElementById("port") as HTMLInputElement;
                port.value = String(defaultPorts[chosen]);
              }}
            >
              <ProtocolOptions />
            </Select>
          </Field>
        </Section>
        {/* Settings of other protocols stay in the form, hidden, so a save keeps what they hold. */}
        <Section title="Connection">
          <div hidden={web} className="space-y-3">
            <Field id="host" label="Host" error={fieldErrors.host}>
              <TextInput id="host" defaultValue={editing.host} invalid={Boolean(fieldErrors.host)} />
            </Field>
            <Field id="port" label="Port" error={fieldErrors.port}>
              <TextInput id="port" type="number" defaultValue={editing.port} invalid={Boolean(fieldErrors.port)} />
            </Field>
          </div>
          <div hidden={!web} className="space-y-3">
            <Field id="internalUrl" label="Internal URL" error={fieldErrors.internalUrl} hint="Where the gateway reaches the app, e.g. http://10.0.0.5:8080; host and port are taken from it. Users open it at <name>.<gateway host>.">
              <TextInput id="internalUrl" defaultValue={editing.internalUrl ?? ""} placeholder="http://…" invalid={Boolean(fieldErrors.internalUrl)} />
            </Field>
          </div>
          <Field id="credentialId" label="Credential" error={fieldErrors.credentialId} hint="Injected by the gateway; users never see it">
            <Select id="credentialId" defaultValue={editing.credentialId ?? ""}>
              <option value="">None</option>
              {credentials.map((credential) => (
                <option key={credential.id} value={credential.id}>
                  {credential.name} ({credential.username})
                </option>
              ))}
            </Select>
          </Field>
          <div hidden={!web} className="space-y-3">
            <Field id="webAuthHeader" label="Auth header" error={fieldErrors.webAuthHeader} hint="Empty: the credential is sent as HTTP basic auth. A header name (e.g. X-Api-Key): its password is sent in that header.">
              <TextInput id="webAuthHeader" defaultValue={editing.webAuthHeader ?? ""} invalid={Boolean(fieldErrors.webAuthHeader)} />
            </Field>
          </div>
          <div hidden={protocol !== "rdp"} className="space-y-3">
            <Field id="rdpSecurity" label="RDP security" error={fieldErrors.rdpSecurity} hint="Any takes NLA or TLS, whichever the server offers; both prove the desktop's identity by its pinned certificate.">
              <Select id="rdpSecurity" defaultValue={editing.rdpSecurity} onChange={(event) => setStandardRdpSecurity(event.target.value === "rdp")}>
                <option value="any">Any (NLA or TLS)</option>
                <option value="nla">NLA</option>
                <option value="tls">TLS</option>
                <option value="rdp">Standard RDP security (unsafe: no identity check)</option>
              </Select>
              {standardRdpSecurity && protocol === "rdp" ? (
                <p role="alert" className="mt-1 rounded-md border border-amber-300 bg-amber-50 px-2 py-1 text-xs text-amber-900">
                  Standard RDP security cannot prove the desktop&apos;s identity: anyone in the network path can pose as it and receive the stored password. Use it only for a desktop that offers nothing else.
                </p>
              ) : null}
            </Field>
            <Field id="keyboardLayout" label="Keyboard layout" error={fieldErrors.keyboardLayout} hint="The layout the desktop expects: keys are sent as its scancodes.">
              <Select id="keyboardLayout" defaultValue={editing.keyboardLayout}>
                {Object.entries(keyboardLayouts).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </Select>
            </Field>
            <Field
              id="remoteApp"
              label="RemoteApp program"
              error={fieldErrors.remoteApp}
              hint="Empty: the whole desktop. A program (a path, or ||alias for an app a Windows server publishes): only its windows are shown, and their titles reach window-title rules."
            >
              <TextInput id="remoteApp" defaultValue={editing.remoteApp ?? ""} placeholder="||SSMS" invalid={Boolean(fieldErrors.remoteApp)} />
            </Field>
          </div>
          <div hidden={protocol !== "ssh" && protocol !== "rdp"} className="space-y-3">
            <Field
              id="hostKeyFingerprint"
              label={protocol === "rdp" ? "Pinned certificate" : "Pinned host key"}
              error={fieldErrors.hostKeyFingerprint}
              hint="Empty: trust what the first connection shows, then pin it. Clear it to accept a new one."
            >
              <TextInput id="hostKeyFingerprint" defaultValue={editing.hostKeyFingerprint ?? ""} placeholder="SHA256:…" invalid={Boolean(fieldErrors.hostKeyFingerprint)} />
            </Field>
          </div>
          <div hidden={protocol !== "ssh"}>
            <Checkbox id="legacyAlgorithms" checked={editing.legacyAlgorithms}>
              Allow legacy SSH algorithms (SHA-1, CBC) for old devices
            </Checkbox>
          </div>
          <div hidden={!desktop} className="space-y-3">
            <Checkbox id="clipboardCopy" checked={editing.clipboardCopy}>
              Text copied on the desktop reaches the user
            </Checkbox>
            <Checkbox id="clipboardPaste" checked={editing.clipboardPaste}>
              The user may paste text onto the desktop
            </Checkbox>
          </div>
        </Section>
        <Section title="Sessions">
          <div className="grid grid-cols-3 gap-2">
            <Field id="sessionTtlMinutes" label="Time limit (min)" error={fieldErrors.sessionTtlSeconds}>
              <TextInput id="sessionTtlMinutes" type="number" min={0} defaultValue={editing.sessionTtlSeconds / 60} invalid={Boolean(fieldErrors.sessionTtlSeconds)} />
            </Field>
            <Field id="extensionMinutes" label="Extension (min)" error={fieldErrors.extensionSeconds}>
              <TextInput id="extensionMinutes" type="number" min={0} defaultValue={editing.extensionSeconds / 60} invalid={Boolean(fieldErrors.extensionSeconds)} />
            </Field>
            <Field id="maxSessionMinutes" label="Longest (min)" error={fieldErrors.maxSessionSeconds}>
              <TextInput id="maxSessionMinutes" type="number" min={0} defaultValue={editing.maxSessionSeconds / 60} invalid={Boolean(fieldErrors.maxSessionSeconds)} />
            </Field>
          </div>
          <p className="text-xs text-slate-500">A time limit of 0 means none. Users may extend by the extension step up to the longest duration.</p>
          <div hidden={!web} className="space-y-3">
            <Field id="idleTimeoutMinutes" label="Idle timeout (min)" error={fieldErrors.idleTimeoutSeconds} hint="A visit ends after this long without a click, a key or a page load; 0 means never.">
              <TextInput id="idleTimeoutMinutes" type="number" min={0} defaultValue={editing.idleTimeoutSeconds / 60} invalid={Boolean(fieldErrors.idleTimeoutSeconds)} />
            </Field>
          </div>
          <Checkbox id="announceWatchers" checked={editing.announceWatchers}>
            Tell users when someone from security watches their session
          </Checkbox>
        </Section>
        <Section title="Recording">
          <Checkbox id="recordSessions" checked={editing.recordSessions}>
            Record sessions (turn off only where policy allows unrecorded access)
          </Checkbox>
          <div hidden={!web}>
            <Checkbox id="maskAllInputs" checked={editing.maskAllInputs}>
              Mask every form field in web recordings (password fields are always masked)
            </Checkbox>
          </div>
          <Field id="retentionDays" label="Keep recordings (days)" error={fieldErrors.retentionDays} hint="0 keeps them forever; reviewers can hold single sessions">
            <TextInput id="retentionDays" type="number" min={0} defaultValue={editing.retentionDays} invalid={Boolean(fieldErrors.retentionDays)} />
          </Field>
        </Section>
        <Section title="Who may connect">
          <Field id="allowedUsers" label="Allowed users" error={fieldErrors.allowedUsers} hint="Usernames or emails, separated by commas">
            <TextInput id="allowedUsers" defaultValue={editing.allowedUsers.join(", ")} />
          </Field>
          <Field id="allowedGroups" label="Allowed groups" error={fieldErrors.allowedGroups} hint="Groups from your identity provider, separated by commas">
            <TextInput id="allowedGroups" defaultValue={editing.allowedGroups.join(", ")} />
          </Field>
          <Field id="tags" label="Tags" error={fieldErrors.tags} hint="Separated by commas; policies and the target lists filter by them">
            <TextInput id="tags" defaultValue={editing.tags.join(", ")} />
          </Field>
        </Section>
      </EditorCard>
    </div>
  );
}
