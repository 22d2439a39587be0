// Videos of desktop and web recordings, rendered by a background job: what is asked for and how an export is shown.
import { z } from "zod";

export const videoFormatSchema = z.enum(["mp4", "webm"]);
export type VideoFormatName = z.infer<typeof videoFormatSchema>;

export const videoExportRequestSchema = z.object({ format: videoFormatSchema });

export const videoExportViewSchema = z.object({
  id: z.uuid(),
  sessionId: z.uuid(),
  format: videoFormatSchema,
  status: z.enum(["queued", "rendering", "ready", "failed"]),
  /** 0 to 1. */
  progress: z.number(),
  requestedBy: z.string(),
  bytes: z.number().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type VideoExportView = z.infer<typeof videoExportViewSchema>;

export const videoContentTypes: Record<VideoFormatName, string> = { mp4: "video/mp4", webm: "video/webm" };
