// What the recorder injected into a web app's pages shares with the gateway. It runs inside other people's
// pages, so this module imports nothing (no validator either: the page only ever hears from its own gateway);
// the gateway validates what pages send with the schemas in ./web-recording.ts.

export const recorderScriptPath = "/__gatehouse/rec.js";
export const pageEventsPath = "/__gatehouse/events";

/** rrweb's event types that the gateway reads (the rest it only stores and forwards). */
export const pageEventType = { fullSnapshot: 2, incrementalSnapshot: 3, meta: 4, custom: 5 } as const;
/** Incremental sources that mean a person did something: pointer, clicks, scrolling, typing, touch, media, drag, selection. */
const userSources = new Set([1, 2, 3, 5, 6, 7, 12, 14]);
/** The custom event the page adds when the app changes its URL without loading a page (history API). */
export const navigationTag = "gatehouse.navigation";

/** One rrweb event as the page emits it. */
export interface PageEvent {
  type: number;
  timestamp: number;
  data?: unknown;
}

/** Page → gateway: events in the order recorded, and the page's clock when sent (to put them on the gateway's). */
export interface PageEventBatch {
  sentAt: number;
  events: PageEvent[];
}

/** Page → gateway, besides batches of events: the user asks for more time (see `expiry`). */
export interface ExtendRequest {
  type: "extend";
}

/**
 * Gateway → page: take a full snapshot now (someone needs the page as it is), show the session's state, say
 * when the visit ends and whether it may be extended, or stop.
 */
export type PageMessage =
  | { type: "snapshot" }
  | { type: "state"; state: "active" | "locked"; message: string }
  | { type: "expiry"; expiresAt: string; canExtend: boolean; extensionSeconds: number }
  | { type: "ended"; message: string }
  /** The visit is recorded: the indicator's words (the admin's, or the built-in ones). */
  | { type: "recording"; notice: string }
  /** How many people from security watch the visit now (sent only where the target announces watchers). */
  | { type: "watchers"; count: number };

/** Whether an event is the user acting (what the idle timeout watches), rather than the app changing the page. */
export function isUserActivity(event: PageEvent): boolean {
  if (event.type === pageEventType.meta) return true;
  if (event.type !== pageEventType.incrementalSnapshot) return false;
  const source = (event.data as { source?: unknown } | null)?.source;
  return typeof source === "number" && userSources.has(source);
}

/** The address a page event moves to: a page load (meta) or an in-app navigation; null for anything else. */
export function navigationOf(event: PageEvent): string | null {
  const data = event.data as { href?: unknown; tag?: unknown; payload?: { href?: unknown } } | null;
  if (event.type === pageEventType.meta && typeof data?.href === "string") return data.href;
  if (event.type === pageEventType.custom && data?.tag === navigationTag && typeof data.payload?.href === "string") return data.payload.href;
  return null;
}
