// Browser side of the API: one fetch helper that turns error bodies into messages for forms.
import { apiErrorSchema, type ApiErrorBody } from "../protocol/admin";

export type ApiResult<T> = { ok: true; data: T } | ({ ok: false } & ApiErrorBody);

export async function callApi<T = unknown>(method: "GET" | "POST" | "PATCH" | "DELETE", url: string, body?: unknown): Promise<ApiResult<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: "The gateway did not answer; check your connection and try again" };
  }
  const payload: unknown = await response.json().catch(() => null);
  if (response.ok) return { ok: true, data: payload as T };
  const parsed = apiErrorSchema.safeParse(payload);
  return { ok: false, ...(parsed.success ? parsed.data : { error: `The gateway answered ${response.status}` }) };
}
