import Link from "next/link";
import type { TargetSearch } from "@/lib/protocol/target-search";

const inputStyle = "mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 text-sm";

/** Search and tag filter above a list of targets: a plain GET form, so the URL says what is shown. */
export function TargetSearchForm({ search, tags, shown, total, clearHref }: { search: TargetSearch; tags: string[]; shown: number; total: number; clearHref: string }) {
  const filtered = Boolean(search.q || search.tag);
  return (
    // Keyed by the search: a link to another tag gives the fields that tag, not what was last typed.
    <form key={`${search.q ?? ""}\n${search.tag ?? ""}`} role="search" aria-label="Find targets" className="mb-4 flex flex-wrap items-end gap-3">
      <label className="min-w-48 flex-1 text-sm">
        Search
        <input name="q" type="search" defaultValue={search.q ?? ""} placeholder="name, address, tag…" className={inputStyle} />
      </label>
      <label className="text-sm">
        Tag
        <select name="tag" defaultValue={search.tag ?? ""} className={inputStyle}>
          <option value="">Any</option>
          {tags.map((tag) => (
            <option key={tag} value={tag}>
              {tag}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
        Find
      </button>
      {filtered ? (
        <p className="text-sm text-slate-600" role="status">
          {shown} of {total} targets ·{" "}
          <Link href={clearHref} className="font-medium text-indigo-700">
            show all
          </Link>
        </p>
      ) : null}
    </form>
  );
}
