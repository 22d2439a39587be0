// Finding targets in a list (the home page, the admin's Targets page): words and a tag, from the page's URL.
import { z } from "zod";

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .catch(undefined)
    .transform((value) => value || undefined);

export const targetSearchSchema = z.object({ q: optionalText(200), tag: optionalText(100) });
export type TargetSearch = Partial<z.infer<typeof targetSearchSchema>>;
/** The admin's list: the search, and the name of the last target of the page before (keyset paging by name). */
export const targetPageQuerySchema = targetSearchSchema.extend({ after: optionalText(200) });
export type TargetPageQuery = Partial<z.infer<typeof targetPageQuerySchema>>;
export const targetPageSize = 100;

/** The address of a page of the list: the same search, from after `after` (the first page without it). */
export function targetPageHref(path: string, { q, tag }: TargetSearch, after?: string) {
  const params = new URLSearchParams({ ...(q ? { q } : {}), ...(tag ? { tag } : {}), ...(after ? { after } : {}) });
  return params.size > 0 ? `${path}?${params}` : path;
}

/**
 * Every word in the name, address, protocol or a tag (any case), and the tag among its tags. The home page's
 * targets are the person's own, few enough to find in memory; the admin's list asks the database the same
 * (lib/data/targets.ts, listTargetsPage).
 */
export function matchesTargetSearch(target: { name: string; host: string; protocol: string; tags: string[] }, { q, tag }: TargetSearch) {
  if (tag && !target.tags.includes(tag)) return false;
  if (!q) return true;
  const haystack = [target.name, target.host, target.protocol, ...target.tags].join(" ").toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .every((word) => haystack.includes(word));
}

/** The tags of these targets, each once, sorted: the filter's choices. */
export function tagsOf(targets: { tags: string[] }[]) {
  return [...new Set(targets.flatMap((target) => target.tags))].sort((a, b) => a.localeCompare(b));
}
