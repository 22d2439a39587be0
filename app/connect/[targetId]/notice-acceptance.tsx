"use client";
import { Button, Card, FormError } from "@/app/_ui/primitives";
import { useApiForm } from "@/app/_ui/use-api-form";

/** The logon notice, to read and accept before the session opens. */
export function NoticeAcceptance({ targetId, notice, next }: { targetId: string; notice: string; next: string }) {
  const { formError, submit } = useApiForm();
  async function accept() {
    // A full load: for a web app, `next` is the route that hands the visit to the app's host.
    if (await submit("POST", `/api/targets/${targetId}/notice`)) window.location.assign(next);
  }
  return (
    <Card className="max-w-2xl space-y-4">
      <h2 className="text-lg font-semibold">Before you connect</h2>
      <p className="whitespace-pre-wrap text-sm text-slate-800" data-testid="logon-notice">
        {notice}
      </p>
      <FormError message={formError} />
      <Button onClick={accept}>I accept</Button>
    </Card>
  );
}
