"use client";
// A recording's verification, beside either player: every chunk present, unaltered, chained to the one before
// and signed with the evidence key, and none cut off after its seal. It reads every chunk, so it arrives after
// the player has started.
import { useEffect, useState } from "react";
import { recordingVerdictSchema, type RecordingVerdict } from "@/lib/protocol/recordings";

export function Verification({ sessionId }: { sessionId: string }) {
  const [verdict, setVerdict] = useState<RecordingVerdict>();
  useEffect(() => {
    let cancelled = false;
    fetch(`/api/recordings/${sessionId}/verify`)
      .then((response) => response.json())
      .then((body) => {
        const parsed = recordingVerdictSchema.safeParse(body);
        if (parsed.success && !cancelled) setVerdict(parsed.data);
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [sessionId]);

  if (!verdict) {
    return (
      <p role="status" data-testid="verification" className="rounded-md bg-slate-100 px-3 py-2 text-sm text-slate-600">
        Verifying the recording…
      </p>
    );
  }
  return (
    <p role="status" data-testid="verification" className={`rounded-md px-3 py-2 text-sm ${verdict.intact ? "bg-emerald-50 text-emerald-800" : "bg-red-50 text-red-800"}`}>
      {verdict.intact
        ? `Verified: all ${verdict.chunks} chunks present, unaltered and signed${verdict.sealed ? ", sealed when the recording ended" : ""}.`
        : `Not verified: chunk ${verdict.brokenAtSeq} of ${verdict.chunks} — ${verdict.problem}${verdict.detail ? ` (${verdict.detail})` : ""}. What follows it cannot be trusted.`}
    </p>
  );
}
