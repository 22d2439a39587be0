import { describe, expect, it } from "vitest";
import { csvField } from "../../lib/data/audit-reading";
import { auditExportSchema, auditPageSchema } from "../../lib/protocol/audit";

describe("audit export", () => {
  it("writes CSV fields a spreadsheet reads as text: quoted when needed, never as a formula", () => {
    expect(csvField("login")).toBe("login");
    expect(csvField('say "hi", twice')).toBe('"say ""hi"", twice"');
    expect(csvField("line\nbreak")).toBe('"line\nbreak"');
    expect(csvField("=HYPERLINK(\"http://evil\")")).toBe('"\'=HYPERLINK(""http://evil"")"');
    for (const start of ["+", "-", "@", "\t"]) expect(csvField(`${start}cmd`)).toBe(`'${start}cmd`);
    expect(csvField(null)).toBe("");
    expect(csvField({ query: "a,b" })).toBe('"{""query"":""a,b""}"');
    expect(csvField(new Date("2026-11-30T10:00:00Z"))).toBe("2026-11-30T10:00:00.000Z");
  });

  it("reads filters from a URL: dates in UTC, a date alone as a whole day at the end of a range, bad values refused", () => {
    const page = auditPageSchema.parse({ from: "2026-11-24", to: "2026-11-24", before: "120", outcome: "" });
    expect(page).toMatchObject({ from: new Date("2026-11-24T00:00:00Z"), to: new Date("2026-11-25T00:00:00Z"), before: 120, outcome: undefined });
    expect(auditPageSchema.parse({ from: "2026-11-24T09:30" }).from).toEqual(new Date("2026-11-24T09:30:00Z"));
    expect(auditPageSchema.parse({ before: "-3" }).before).toBeUndefined();
    expect(auditPageSchema.safeParse({ from: "yesterday" }).success).toBe(false);
    expect(auditPageSchema.safeParse({ outcome: "maybe" }).success).toBe(false);
    expect(auditPageSchema.safeParse({ actor: "x".repeat(101) }).success).toBe(false);
    expect(auditExportSchema.safeParse({ format: "xlsx" }).success).toBe(false);
  });
});
