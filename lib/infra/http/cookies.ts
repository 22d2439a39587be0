// Reading a Cookie request header: the one parser the WebSocket gate and the app proxy share. Browsers send
// every cookie that matches a request, so a name can appear more than once (a cookie another host of the same
// site set for the whole domain sits beside the host's own): callers that must not be confused by that ask for
// every value.

/** Every value of the cookie called `name`, in the order the browser sent them, percent-decoding undone. */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator <= 0 || part.slice(0, separator).trim() !== name) continue;
    const raw = part.slice(separator + 1).trim();
    try {
      values.push(decodeURIComponent(raw));
    } catch {
      values.push(raw);
    }
  }
  return values;
}

/** The cookie's value when the browser sent it exactly once; null when absent or ambiguous. */
export function singleCookie(header: string | undefined, name: string): string | null {
  const values = cookieValues(header, name);
  return values.length === 1 ? values[0]! : null;
}

/** The header without the named cookies: what an upstream app is sent of the browser's cookies. */
export function cookieHeaderWithout(header: string | undefined, names: readonly string[]): string | undefined {
  const kept = (header ?? "")
    .split(";")
    .map((pair) => pair.trim())
    .filter((pair) => pair && !names.some((name) => pair.startsWith(`${name}=`)));
  return kept.length > 0 ? kept.join("; ") : undefined;
}
