import { pageEventType, type PageEvent } from "@/lib/protocol/page-recorder";

/**
 * The moment to show for `at` in a web recording (times as the events'): a page starts (meta) a moment before
 * it is drawn (full snapshot), and between the two the replayer has nothing to show, so a moment there (or
 * before the first snapshot) shows the page as first drawn. `events` are in time order, as recordings store them.
 */
export function pageDrawnAt(events: readonly PageEvent[], at: number): number {
  let opened = -1;
  for (let index = 0; index < events.length && events[index]!.timestamp <= at; index++) {
    if (events[index]!.type === pageEventType.meta) opened = index;
  }
  for (let index = opened + 1; index < events.length; index++) {
    const event = events[index]!;
    if (event.type === pageEventType.fullSnapshot) return Math.max(at, event.timestamp);
    if (event.type === pageEventType.meta && opened >= 0) break;
  }
  return at;
}
