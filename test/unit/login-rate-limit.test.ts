import { describe, expect, it } from "vitest";
import { LoginRateLimiter } from "@/lib/auth/login-rate-limit";

describe("login rate limit", () => {
  it("blocks an account after 5 failures and frees it after the window", () => {
    let now = 0;
    const limiter = new LoginRateLimiter(() => now);
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(limiter.isBlocked("10.0.0.1", "admin")).toBe(false);
      limiter.recordFailure("10.0.0.1", "admin");
    }
    expect(limiter.isBlocked("10.0.0.9", "admin")).toBe(true);
    expect(limiter.isBlocked("10.0.0.1", "someone-else")).toBe(false);
    now += 15 * 60 * 1000 + 1;
    expect(limiter.isBlocked("10.0.0.1", "admin")).toBe(false);
  });

  it("blocks an address that sprays many accounts", () => {
    const limiter = new LoginRateLimiter(() => 0);
    for (let account = 0; account < 20; account++) limiter.recordFailure("10.0.0.1", `user${account}`);
    expect(limiter.isBlocked("10.0.0.1", "fresh-account")).toBe(true);
    expect(limiter.isBlocked("10.0.0.2", "fresh-account")).toBe(false);
  });

  it("forgets an account's failures after a success", () => {
    const limiter = new LoginRateLimiter(() => 0);
    for (let attempt = 0; attempt < 4; attempt++) limiter.recordFailure("10.0.0.1", "admin");
    limiter.recordSuccess("admin");
    limiter.recordFailure("10.0.0.1", "admin");
    expect(limiter.isBlocked("10.0.0.1", "admin")).toBe(false);
  });
});
