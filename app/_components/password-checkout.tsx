"use client";
// Password checkout on a target's card: shown for the seconds the gateway allows, with a copy button, then gone.
import { useEffect, useState } from "react";
import { Button, FormError } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";

type Shown = { username: string; password: string; hideAfterSeconds: number };

export function PasswordCheckout({ targetId, targetName }: { targetId: string; targetName: string }) {
  const [shown, setShown] = useState<Shown | null>(null);
  const [secondsLeft, setSecondsLeft] = useState(0);
  const [error, setError] = useState<string>();
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (!shown) return;
    setSecondsLeft(shown.hideAfterSeconds);
    const started = Date.now();
    const timer = setInterval(() => {
      const left = shown.hideAfterSeconds - Math.floor((Date.now() - started) / 1000);
      if (left > 0) return setSecondsLeft(left);
      setShown(null);
      setCopied(false);
    }, 250);
    return () => clearInterval(timer);
  }, [shown]);

  async function reveal() {
    if (!window.confirm(`Show the password of ${targetName}? This is recorded in the audit log.`)) return;
    const result = await callApi<Shown>("POST", `/api/targets/${targetId}/checkout`);
    if (!result.ok) return setError(result.error);
    setError(undefined);
    setShown(result.data);
  }

  if (!shown) {
    return (
      <span>
        <Button variant="secondary" onClick={reveal} aria-label={`Show the password of ${targetName}`}>
          Show password
        </Button>
        <FormError message={error} />
      </span>
    );
  }
  return (
    <div className="w-full rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="checked-out-password">
      <p>
        <span className="text-slate-600">User</span> <span className="font-mono">{shown.username}</span>
      </p>
      <p className="flex items-center gap-2">
        <span className="text-slate-600">Password</span>
        <span className="font-mono" data-testid="password-value">
          {shown.password}
        </span>
        <Button
          variant="secondary"
          onClick={() => void navigator.clipboard.writeText(shown.password).then(() => setCopied(true), () => setError("The browser did not allow copying"))}
        >
          {copied ? "Copied" : "Copy"}
        </Button>
      </p>
      <p className="text-xs text-slate-600" role="timer">
        Hidden in {secondsLeft} s
      </p>
    </div>
  );
}
