import { describe, expect, it } from "vitest";
import { canReach } from "@/lib/domain/access";

const alice = { username: "alice", email: "Alice@Example.com", groups: ["engineers"] };

describe("access rule", () => {
  it("lets a user listed by username or email, case-insensitively", () => {
    expect(canReach(alice, { allowedUsers: ["ALICE"], allowedGroups: [] })).toBe(true);
    expect(canReach(alice, { allowedUsers: ["alice@example.com"], allowedGroups: [] })).toBe(true);
  });

  it("lets a member of an allowed group", () => {
    expect(canReach(alice, { allowedUsers: [], allowedGroups: ["engineers"] })).toBe(true);
  });

  it("refuses everyone else, including by group name case", () => {
    expect(canReach(alice, { allowedUsers: ["bob"], allowedGroups: ["Engineers"] })).toBe(false);
    expect(canReach(alice, { allowedUsers: [], allowedGroups: [] })).toBe(false);
    expect(canReach({ username: "mallory", email: null, groups: [] }, { allowedUsers: [""], allowedGroups: [] })).toBe(false);
  });
});
