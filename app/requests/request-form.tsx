"use client";
import { useState, type FormEvent } from "react";
import { Button, Card, Field, FormError, Select, TextInput } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";
import type { requestOptions } from "@/lib/data/governance/requests";

type Options = Awaited<ReturnType<typeof requestOptions>>;
interface Draft {
  activityId: string;
  targetIds: string[];
  notes: string;
  ticket: string;
  startsAt: string;
  durationMinutes: string;
}

/** Pick an activity and resources, say why and for how long, review the summary, submit. */
export function RequestForm({ options, preselected }: { options: Options; preselected?: string }) {
  const initialActivity = options.find((activity) => activity.targets.some((target) => target.id === preselected)) ?? options[0];
  const [activityId, setActivityId] = useState(initialActivity?.id ?? "");
  const [review, setReview] = useState<Draft | null>(null);
  /** What was typed last: going back or a refused submit returns to it, not to an empty form. */
  const [draft, setDraft] = useState<Draft | null>(null);
  const { formError, fieldErrors, submit: send } = useApiForm();
  const activity = options.find((candidate) => candidate.id === activityId);

  if (options.length === 0) {
    return (
      <Card>
        <p className="text-sm text-slate-600">No activity lets you request access. An administrator sets up policies and activities.</p>
      </Card>
    );
  }

  function toReview(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next: Draft = {
      activityId,
      targetIds: form.getAll("targetIds").map(String),
      notes: String(form.get("notes") ?? ""),
      ticket: String(form.get("ticket") ?? ""),
      startsAt: String(form.get("startsAt") ?? ""),
      durationMinutes: String(form.get("durationMinutes") ?? ""),
    };
    setDraft(next);
    setReview(next);
  }

  async function submit() {
    if (!review) return;
    const startsAt = review.startsAt ? new Date(review.startsAt).toISOString() : null;
    const sent = await send("POST", "/api/requests", { ...review, startsAt, ticket: review.ticket || null });
    setReview(null);
    if (sent) setDraft(null);
  }

  const names = (ids: string[]) => activity?.targets.filter((target) => ids.includes(target.id)).map((target) => target.name).join(", ") || "none";
  return (
    <Card>
      <h2 className="mb-4 text-lg font-semibold">{review ? "Review your request" : "New request"}</h2>
      {review ? (
        <div className="space-y-3 text-sm" data-testid="request-summary">
          <dl className="grid grid-cols-[7rem_1fr] gap-y-1">
            <dt className="text-slate-500">Activity</dt>
            <dd>{activity?.name}</dd>
            <dt className="text-slate-500">Resources</dt>
            <dd>{names(review.targetIds)}</dd>
            <dt className="text-slate-500">Ticket</dt>
            <dd className="font-mono">{review.ticket || "—"}</dd>
            <dt className="text-slate-500">Start</dt>
            <dd>{review.startsAt ? new Date(review.startsAt).toLocaleString() : "As soon as approved"}</dd>
            <dt className="text-slate-500">Duration</dt>
            <dd>{review.durationMinutes} minutes</dd>
            <dt className="text-slate-500">Notes</dt>
            <dd className="whitespace-pre-wrap">{review.notes || "—"}</dd>
          </dl>
          <div className="flex gap-2 pt-2">
            <Button onClick={submit}>Submit request</Button>
            <Button variant="secondary" onClick={() => setReview(null)}>
              Back
            </Button>
          </div>
        </div>
      ) : (
        <form onSubmit={toReview} className="space-y-3" noValidate>
          <FormError message={formError} />
          <Field id="activityId" label="Activity" error={fieldErrors.activityId} hint={activity?.description || undefined}>
            <Select id="activityId" value={activityId} onChange={(event) => setActivityId(event.target.value)}>
              {options.map((option) => (
                <option key={option.id} value={option.id}>
                  {option.name}
                </option>
              ))}
            </Select>
          </Field>
          <fieldset>
            <legend className="block text-sm font-medium text-slate-700">Resources</legend>
            {activity?.targets.map((target) => (
              <label key={target.id} className="mt-1 flex items-center gap-2 text-sm">
                <input type="checkbox" name="targetIds" value={target.id} defaultChecked={draft ? draft.targetIds.includes(target.id) : target.id === preselected} />
                {target.name}
                <span className="text-xs text-slate-500">
                  {target.protocol.toUpperCase()}
                  {target.maxDurationMinutes ? ` · up to ${target.maxDurationMinutes} min` : ""}
                  {target.autoApproved ? " · approved at once" : ""}
                </span>
              </label>
            ))}
            {fieldErrors.targetIds ? (
              <p role="alert" className="mt-1 text-xs text-red-700">
                {fieldErrors.targetIds}
              </p>
            ) : null}
          </fieldset>
          <Field id="ticket" label="Ticket" error={fieldErrors.ticket} hint={activity?.ticketPattern ? `Must match ${activity.ticketPattern}` : "Optional"}>
            <TextInput id="ticket" defaultValue={draft?.ticket} invalid={Boolean(fieldErrors.ticket)} />
          </Field>
          <Field id="startsAt" label="Start" error={fieldErrors.startsAt} hint="Leave empty to start as soon as it is approved">
            <TextInput id="startsAt" type="datetime-local" defaultValue={draft?.startsAt} invalid={Boolean(fieldErrors.startsAt)} />
          </Field>
          <Field id="durationMinutes" label="Duration (minutes)" error={fieldErrors.durationMinutes}>
            <TextInput id="durationMinutes" type="number" min={5} defaultValue={draft?.durationMinutes ?? 60} invalid={Boolean(fieldErrors.durationMinutes)} />
          </Field>
          <Field id="notes" label="Notes" error={fieldErrors.notes}>
            <textarea id="notes" name="notes" rows={3} defaultValue={draft?.notes} className="mt-1 block w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm" />
          </Field>
          <Button type="submit">Review</Button>
        </form>
      )}
    </Card>
  );
}
