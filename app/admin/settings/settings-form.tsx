"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button, Card, Field, FormError, TextInput } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import type { GatewaySettingsInput } from "@/lib/protocol/admin";

type Settings = Required<GatewaySettingsInput>;

/** The texts people see, each with what they see when it is left empty. */
const textFields = (defaults: { lockMessage: string; recordingNotice: string }) =>
  [
    { id: "lockMessage", label: "Lock message", hint: "Shown to someone whose session security locked", empty: `“${defaults.lockMessage}”` },
    { id: "terminationMessage", label: "Termination message", hint: "Shown, before the reason, to someone whose session security ended", empty: "who ended it" },
    { id: "recordingNotice", label: "Recording notice", hint: "The words of the red indicator", empty: `“${defaults.recordingNotice}”` },
    { id: "logonNotice", label: "Logon notice", hint: "Acceptable use: policies may require it to be accepted before connecting", empty: "no notice" },
  ] as const;

export function SettingsForm({ settings: saved, defaults }: { settings: Settings; defaults: { lockMessage: string; recordingNotice: string } }) {
  const router = useRouter();
  const [settings, setSettings] = useState(saved);
  const [error, setError] = useState<string>();
  const [confirmed, setConfirmed] = useState(false);

  async function change(update: Partial<GatewaySettingsInput>) {
    setSettings({ ...settings, ...update });
    setConfirmed(false);
    // Only what changed: the audit log says what was changed, not the whole page.
    const result = await callApi<Settings>("PATCH", "/api/admin/settings", update);
    if (!result.ok) {
      setSettings(settings);
      return setError(Object.values(result.fields ?? {})[0] ?? result.error);
    }
    setError(undefined);
    setSettings(result.data);
    setConfirmed(true);
    router.refresh();
  }

  return (
    <Card className="max-w-xl space-y-3">
      <FormError message={error} />
      <div className="flex items-start gap-2">
        <input
          id="showRecordingIndicator"
          type="checkbox"
          className="mt-1"
          checked={settings.showRecordingIndicator}
          onChange={(event) => void change({ showRecordingIndicator: event.target.checked })}
        />
        <label htmlFor="showRecordingIndicator" className="text-sm text-slate-700">
          Show users a red “This session is recorded” indicator while a recorded session is open
        </label>
      </div>
      <form
        className="space-y-3 border-t border-slate-100 pt-3"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          void change({ revealSeconds: Number(form.get("revealSeconds")), ...Object.fromEntries(textFields(defaults).map(({ id }) => [id, String(form.get(id) ?? "")])) });
        }}
      >
        <Field id="revealSeconds" label="A checked-out password stays on screen for (seconds)">
          <TextInput id="revealSeconds" type="number" min={5} max={300} defaultValue={settings.revealSeconds} />
        </Field>
        {textFields(defaults).map(({ id, label, hint, empty }) => (
          <Field key={id} id={id} label={label} hint={`${hint}. Empty: ${empty}`}>
            <textarea id={id} name={id} rows={id === "logonNotice" ? 5 : 2} defaultValue={settings[id] ?? ""} className="mt-1 block w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm" />
          </Field>
        ))}
        <Button type="submit">Save texts</Button>
      </form>
      {confirmed ? (
        <p role="status" className="text-sm text-emerald-700">
          Saved.
        </p>
      ) : null}
    </Card>
  );
}
