import { describe, expect, it } from "vitest";
import { matchesTargetSearch, tagsOf, targetSearchSchema } from "../../lib/protocol/target-search";

const db1 = { name: "db-primary", host: "10.0.4.12", protocol: "ssh", tags: ["prod", "postgres"] };
const wiki = { name: "wiki", host: "wiki.internal", protocol: "web", tags: ["staging"] };

describe("target search", () => {
  it("matches every word anywhere in the name, address, protocol and tags, in any case", () => {
    expect(matchesTargetSearch(db1, { q: "DB prod" })).toBe(true);
    expect(matchesTargetSearch(db1, { q: "10.0.4" })).toBe(true);
    expect(matchesTargetSearch(db1, { q: "ssh postgres" })).toBe(true);
    expect(matchesTargetSearch(db1, { q: "db staging" })).toBe(false);
    expect(matchesTargetSearch(wiki, {})).toBe(true);
  });

  it("filters by a whole tag, not a part of one", () => {
    expect(matchesTargetSearch(db1, { tag: "prod" })).toBe(true);
    expect(matchesTargetSearch(db1, { tag: "pro" })).toBe(false);
    expect(matchesTargetSearch(wiki, { tag: "prod", q: "wiki" })).toBe(false);
  });

  it("reads the URL's values, dropping empty and oversized ones instead of failing the page", () => {
    expect(targetSearchSchema.parse({ q: "  db  ", tag: "" })).toEqual({ q: "db", tag: undefined });
    expect(targetSearchSchema.parse({ q: "x".repeat(201), tag: ["a", "b"] })).toEqual({ q: undefined, tag: undefined });
    expect(targetSearchSchema.parse({})).toEqual({ q: undefined, tag: undefined });
  });

  it("offers each tag once, sorted", () => {
    expect(tagsOf([db1, wiki, { tags: ["prod"] }])).toEqual(["postgres", "prod", "staging"]);
  });
});
