// What the terminal and desktop pages tell their user about the session itself: whether it is connected, that
// it is recorded, who watches it, and when it ends.
import { Button } from "@/app/_ui/primitives";
import { watchersNotice } from "@/lib/domain/format";
import type { SessionStatus } from "./session-state";

export type Expiry = { expiresAt: Date; canExtend: boolean; extensionMinutes: number } | null;

export function SessionStatusLine({ status, testId }: { status: SessionStatus; testId: string }) {
  return (
    <span role="status" data-testid={testId} className={status.kind === "ended" ? "text-red-700" : status.kind === "connected" ? "text-emerald-700" : "text-slate-600"}>
      {status.kind === "connecting" ? "Connecting…" : status.kind === "connected" ? "Connected" : status.message}
    </span>
  );
}

export function RecordingIndicator({ notice }: { notice: string }) {
  return (
    <span className="flex items-center gap-1.5 text-xs font-medium text-red-700" data-testid="recording-indicator">
      <span aria-hidden className="h-2.5 w-2.5 animate-pulse rounded-full bg-red-600" />
      {notice}
    </span>
  );
}

export function WatchersBanner({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <div role="status" data-testid="watchers-banner" className="rounded-md border border-sky-300 bg-sky-50 px-3 py-1.5 text-sm text-sky-900">
      {watchersNotice(count)}
    </div>
  );
}

export function ExpiryBanner({ expiry, onExtend }: { expiry: Expiry; onExtend: () => void }) {
  if (!expiry) return null;
  const minutesLeft = Math.max(0, Math.ceil((expiry.expiresAt.getTime() - Date.now()) / 60_000));
  return (
    <div role="alert" className="flex items-center gap-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
      <span>
        This session ends at {expiry.expiresAt.toLocaleTimeString()} ({minutesLeft} min left).
      </span>
      {expiry.canExtend ? (
        <Button variant="secondary" onClick={onExtend}>
          Extend by {expiry.extensionMinutes || "a few"} min
        </Button>
      ) : (
        <span>It cannot be extended further.</span>
      )}
    </div>
  );
}

/** What the command policy said of the last line: not run, waiting for approval, approved. */
export function PolicyBanner({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div role="alert" data-testid="policy-banner" className="rounded-md border border-orange-300 bg-orange-50 px-3 py-1.5 text-sm text-orange-900">
      {message}
    </div>
  );
}
