// Web request rules match a request as sent and as the app will read it: a path spelled around a rule is caught.
import { describe, expect, it } from "vitest";
import { CompiledRules, checkRule } from "@/lib/domain/command-policy/rule-matcher";
import { requestSubjects } from "@/server/web/request-policy";

const deleteUser = { kind: "web_request" as const, matchMode: "regex" as const, pattern: "POST /api/users/*/delete" };
const matches = (method: string, path: string) => new CompiledRules([deleteUser]).match(requestSubjects(method, path));

describe("web request rules", () => {
  it("match a method and a path with * for one segment, the query aside", () => {
    expect(matches("POST", "/api/users/7/delete")).toHaveLength(1);
    expect(matches("post", "/api/users/7/delete?now=1")).toHaveLength(1);
    expect(matches("GET", "/api/users/7/delete")).toHaveLength(0);
    expect(matches("POST", "/api/users/7/8/delete")).toHaveLength(0);
    expect(matches("POST", "/api/users/7/deleted")).toHaveLength(0);
  });

  it("see through dot segments, escapes and doubled slashes, as the app will", () => {
    expect(matches("POST", "/api/users/8/../7/delete")).toHaveLength(1);
    expect(matches("POST", "/api/users/7/%64elete")).toHaveLength(1);
    expect(matches("POST", "/api//users/7/delete")).toHaveLength(1);
    expect(matches("POST", "/api/users/7/%2e%2e/7/delete")).toHaveLength(1);
    expect(matches("POST", "/api/users/7/%ZZ")).toHaveLength(0);
  });

  it("take * as any method and ** as any number of segments", () => {
    const anyDelete = new CompiledRules([{ ...deleteUser, pattern: "* /admin/**" }]);
    expect(anyDelete.match(requestSubjects("DELETE", "/admin/a/b/c"))).toHaveLength(1);
    expect(anyDelete.match(requestSubjects("GET", "/administrator"))).toHaveLength(0);
  });

  it("match statuses by code, by class and by list; refuse what is neither a status nor a request", () => {
    const statuses = new CompiledRules([{ kind: "web_status" as const, matchMode: "regex" as const, pattern: "401, 5xx" }]);
    expect(statuses.match(["401"])).toHaveLength(1);
    expect(statuses.match(["503"])).toHaveLength(1);
    expect(statuses.match(["403"])).toHaveLength(0);
    expect(checkRule({ kind: "web_status", matchMode: "regex", pattern: "teapot", testMatch: [], testNoMatch: [] }).pattern).toMatch(/status codes/);
    expect(checkRule({ kind: "web_request", matchMode: "regex", pattern: "/no-method", testMatch: [], testNoMatch: [] }).pattern).toMatch(/method and a path/);
  });
});
