"use client";
import { useState, type FormEvent } from "react";
import { Button, Field, FormError, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";

/** Asking to open a recording: a justification approvers read, and how long the access should last. */
export function RecordingRequestForm({ sessionId }: { sessionId: string }) {
  const { formError, fieldErrors, submit } = useApiForm();
  const [sent, setSent] = useState(false);
  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setSent(await submit("POST", `/api/recordings/${sessionId}/access-requests`, { justification: form.get("justification"), durationMinutes: Number(form.get("durationHours")) * 60 }));
  }
  if (sent) return <p role="status" className="text-sm text-emerald-700">Asked. The approvers are told; you will find the answer under Requests.</p>;
  return (
    <form onSubmit={send} className="space-y-3" noValidate>
      <FormError message={formError} />
      <Field id="justification" label="Why do you need to see it?" error={fieldErrors.justification}>
        <textarea id="justification" name="justification" rows={3} aria-invalid={Boolean(fieldErrors.justification) || undefined} className="mt-1 block w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm" />
      </Field>
      <Field id="durationHours" label="For how many hours" error={fieldErrors.durationMinutes}>
        <TextInput id="durationHours" type="number" min={1} max={168} defaultValue={24} />
      </Field>
      <Button type="submit">Ask for access</Button>
    </form>
  );
}
