// How the WebSocket gate refuses a connection: a close code the browser can show, and a reason in words.
export const gateCloseCodes = {
  /** No valid session cookie: sign in again. */
  unauthenticated: 4401,
  /** Wrong Origin, or a ticket bound to someone or something else. */
  forbidden: 4403,
  /** No such WebSocket route. */
  notFound: 4404,
  /** The ticket was already used, has expired or never existed: ask for a new one. */
  ticketInvalid: 4408,
} as const;
