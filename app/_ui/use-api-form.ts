"use client";
// The one way an admin form talks to the API: send, show what went wrong (on the form and field by field), and on
// success clear the errors and refresh the page's server-rendered data.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { callApi } from "@/lib/api/client";

export function useApiForm() {
  const router = useRouter();
  const [formError, setFormError] = useState<string>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  /** True when the gateway took it. */
  async function submit(method: "POST" | "PATCH" | "DELETE", url: string, body?: unknown): Promise<boolean> {
    const result = await callApi(method, url, body);
    if (!result.ok) {
      setFormError(result.error);
      setFieldErrors(result.fields ?? {});
      return false;
    }
    setFormError(undefined);
    setFieldErrors({});
    router.refresh();
    return true;
  }

  return { formError, fieldErrors, setFieldErrors, submit };
}
