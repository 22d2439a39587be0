"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Card, FormError } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import type { GatewaySettingsInput } from "@/lib/protocol/admin";

export function SettingsForm({ settings: saved }: { settings: GatewaySettingsInput }) {
  const router = useRouter();
  const [settings, setSettings] = useState(saved);
  const [error, setError] = useState<string>();
  const [confirmed, setConfirmed] = useState(false);

  async function change(update: Partial<GatewaySettingsInput>) {
    const next = { ...settings, ...update };
    setSettings(next);
    setConfirmed(false);
    const result = await callApi<GatewaySettingsInput>("PATCH", "/api/admin/settings", next);
    if (!result.ok) {
      setSettings(settings);
      return setError(result.error);
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
      {confirmed ? (
        <p role="status" className="text-sm text-emerald-700">
          Saved.
        </p>
      ) : null}
    </Card>
  );
}
