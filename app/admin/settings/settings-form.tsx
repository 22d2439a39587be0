"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Card, FormError } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import type { GatewaySettingsInput } from "@/lib/protocol/admin";

export function SettingsForm({ settings }: { settings: GatewaySettingsInput }) {
  const router = useRouter();
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);

  async function change(update: Partial<GatewaySettingsInput>) {
    setSaved(false);
    const result = await callApi("PATCH", "/api/admin/settings", { ...settings, ...update });
    if (!result.ok) return setError(result.error);
    setError(undefined);
    setSaved(true);
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
      {saved ? (
        <p role="status" className="text-sm text-emerald-700">
          Saved.
        </p>
      ) : null}
    </Card>
  );
}
