// Facts about the current request that the custom server established, read by app/ code.
/** Set by server/main.ts on every request from the socket (or X-Forwarded-For when TRUST_PROXY is on); any client-sent value is overwritten. */
export const clientAddressHeader = "x-gatehouse-client-address";

export function clientAddress(headers: Headers): string | null {
  return headers.get(clientAddressHeader);
}
