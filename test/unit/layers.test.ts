// The floors of the house, checked on every run: the pages (app/) and the gateway process (server/) reach the
// database only through lib/data's functions, and neither imports the other; lib/ imports neither. Inside lib/,
// lib/data is the one home of queries: no other folder writes SQL or names a table.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(root, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => /\.(ts|tsx)$/.test(name))
    .map((name) => path.join(folder, name));
}

/** Every module a file imports (static, dynamic, re-exports), resolved to a path from the root where it is relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm)].map((match) => match[1]!);
  return specifiers.map((specifier) => {
    if (specifier.startsWith("@/")) return specifier.slice(2);
    if (specifier.startsWith(".")) return path.relative(root, path.resolve(root, path.dirname(file), specifier));
    return specifier;
  });
}

function offending(folders: string[], forbidden: (imported: string) => boolean, exempt: (file: string) => boolean = () => false) {
  return folders.flatMap((folder) =>
    sourceFiles(folder)
      .filter((file) => !exempt(file))
      .flatMap((file) => importsOf(file).filter(forbidden).map((imported) => `${file} imports ${imported}`)),
  );
}

describe("layers", () => {
  it("reads every file it checks (the check itself works)", () => {
    expect(sourceFiles("server").length).toBeGreaterThan(50);
    expect(sourceFiles("app").length).toBeGreaterThan(50);
    expect(importsOf("lib/data/client.ts")).toContain("drizzle-orm");
    expect(importsOf("server/main.ts")).toContain("lib/infra/config");
  });

  it("only lib/data imports drizzle-orm or the schema: every query is a function there", () => {
    const queries = (imported: string) => imported === "drizzle-orm" || imported.startsWith("drizzle-orm/") || imported === "lib/data/schema";
    expect(offending(["app", "server", "cli", "lib"], queries, (file) => file.startsWith(`lib${path.sep}data${path.sep}`))).toEqual([]);
  });

  it("app/ and server/ never import each other, and lib/ imports neither", () => {
    expect(offending(["app"], (imported) => imported.startsWith("server/"))).toEqual([]);
    expect(offending(["server"], (imported) => imported.startsWith("app/"))).toEqual([]);
    expect(offending(["lib"], (imported) => imported.startsWith("server/") || imported.startsWith("app/"))).toEqual([]);
  });
});
