"use client";
// Videos of a desktop or web recording: ask for one, watch it render, download it (and its signature) when ready.
import { useCallback, useEffect, useState } from "react";
import { Button, Card, FormError } from "@/app/_ui/primitives";
import { callApi } from "@/lib/api/client";
import { amountOfData } from "@/lib/domain/format";
import type { VideoExportView, VideoFormatName } from "@/lib/protocol/video-exports";

const pollEveryMs = 2000;

export function VideoExports({ sessionId }: { sessionId: string }) {
  const [exports, setExports] = useState<VideoExportView[]>([]);
  const [error, setError] = useState<string>();
  const base = `/api/recordings/${sessionId}/video-exports`;
  const refresh = useCallback(async () => {
    const result = await callApi<VideoExportView[]>("GET", base);
    if (result.ok) setExports(result.data);
    else setError(result.error);
  }, [base]);
  const working = exports.some((video) => video.status === "queued" || video.status === "rendering");
  useEffect(() => {
    void refresh();
  }, [refresh]);
  useEffect(() => {
    if (!working) return;
    const timer = setInterval(() => void refresh(), pollEveryMs);
    return () => clearInterval(timer);
  }, [working, refresh]);

  async function ask(format: VideoFormatName) {
    const result = await callApi<VideoExportView>("POST", base, { format });
    setError(result.ok ? undefined : result.error);
    if (result.ok) setExports((current) => [result.data, ...current]);
  }

  return (
    <Card className="mt-4">
      <h2 className="text-base font-semibold">Video</h2>
      <p className="mb-3 text-sm text-slate-600">Rendered in the background from the recording; you are told when it is ready. Downloads and their signatures are audited.</p>
      <div className="mb-3 flex gap-2">
        <Button variant="secondary" onClick={() => void ask("mp4")}>
          Make an MP4 video
        </Button>
        <Button variant="secondary" onClick={() => void ask("webm")}>
          Make a WebM video
        </Button>
      </div>
      <FormError message={error} />
      <ul className="space-y-2 text-sm" aria-label="Video exports">
        {exports.map((video) => (
          <li key={video.id} data-testid={`video-${video.id}`} className="flex flex-wrap items-center gap-3">
            <span className="font-mono uppercase">{video.format}</span>
            <span className="text-slate-500">{video.createdAt.slice(0, 19).replace("T", " ")} UTC, by {video.requestedBy}</span>
            {video.status === "ready" ? (
              <>
                <a className="font-medium text-indigo-700" href={`${base}/${video.id}/file`}>
                  Download ({amountOfData(video.bytes ?? 0)})
                </a>
                <a className="text-indigo-700" href={`${base}/${video.id}/signature`}>
                  Signature
                </a>
              </>
            ) : video.status === "failed" ? (
              <span className="text-red-700">Failed: {video.error}</span>
            ) : (
              <span className="flex items-center gap-2">
                <progress max={1} value={video.progress} aria-label={`Rendering the ${video.format} video`} />
                {video.status === "queued" ? "waiting for a node" : `${Math.floor(video.progress * 100)}%`}
              </span>
            )}
          </li>
        ))}
      </ul>
    </Card>
  );
}
