"use client";
import { useState } from "react";
import { Button, FormError } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";

/** Prevent purge: a recording on hold outlives its target's retention until someone releases it. */
export function LegalHold({ sessionId, held }: { sessionId: string; held: boolean }) {
  const { formError, submit } = useApiForm();
  const [busy, setBusy] = useState(false);
  async function toggle() {
    setBusy(true);
    await submit("PATCH", `/api/sessions/${sessionId}`, { preventPurge: !held });
    setBusy(false);
  }
  return (
    <div className="mb-4 flex items-center gap-3 text-sm">
      <span data-testid="legal-hold-state">{held ? "On hold: retention will not purge this recording." : "Retention may purge this recording when it is due."}</span>
      <Button variant="secondary" onClick={toggle} disabled={busy}>
        {held ? "Release hold" : "Prevent purge"}
      </Button>
      <FormError message={formError} />
    </div>
  );
}
