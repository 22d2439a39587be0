import { describe, expect, it } from "vitest";
import { targetInputSchema } from "@/lib/protocol/admin";
import { appNameOfHost, safeReturnPath } from "@/lib/web-apps";
import { endToEnd, rewriteResponseHeaders, withoutAppCookie } from "@/server/web/app-proxy";

describe("web app hosts", () => {
  const publicUrl = new URL("https://gate.example.com:8443");

  it("finds the app a Host names, only under the gateway's own host", () => {
    expect(appNameOfHost(publicUrl, "wiki.gate.example.com:8443")).toBe("wiki");
    expect(appNameOfHost(publicUrl, "WIKI.Gate.Example.com:8443")).toBe("wiki");
    expect(appNameOfHost(publicUrl, "gate.example.com:8443")).toBeNull();
    expect(appNameOfHost(publicUrl, "wiki.gate.example.com")).toBeNull();
    expect(appNameOfHost(publicUrl, "a.b.gate.example.com:8443")).toBeNull();
    expect(appNameOfHost(publicUrl, "evil.com:8443")).toBeNull();
    expect(appNameOfHost(publicUrl, undefined)).toBeNull();
  });

  it("returns only to a path on the app itself, never to another origin", () => {
    expect(safeReturnPath("/page?x=1#top")).toBe("/page?x=1#top");
    for (const elsewhere of ["//evil.com/", "/\\evil.com", "https://evil.com/", "javascript:alert(1)", "", null, undefined]) expect(safeReturnPath(elsewhere)).toBe("/");
  });
});

describe("the app proxy's headers", () => {
  const internal = new URL("http://10.0.0.5:8080");

  it("forwards no hop-by-hop header, nor one that Connection names", () => {
    expect(endToEnd({ connection: "keep-alive, x-secret-hop", "keep-alive": "timeout=5", "x-secret-hop": "1", "transfer-encoding": "chunked", upgrade: "websocket", accept: "text/html" })).toEqual({ accept: "text/html" });
  });

  it("rewrites redirects to the internal address onto the app host and strips cookie domains", () => {
    const headers = rewriteResponseHeaders({ location: "http://10.0.0.5:8080/login?next=%2F#f", "set-cookie": ["sid=1; Domain=10.0.0.5; Path=/; HttpOnly", "theme=dark"] }, internal, "https://wiki.gate.example.com");
    expect(headers.location).toBe("https://wiki.gate.example.com/login?next=%2F#f");
    expect(headers["set-cookie"]).toEqual(["sid=1; Path=/; HttpOnly", "theme=dark"]);
    expect(rewriteResponseHeaders({ location: "/relative" }, internal, "https://wiki.gate.example.com").location).toBe("https://wiki.gate.example.com/relative");
    expect(rewriteResponseHeaders({ location: "https://sso.example.org/auth" }, internal, "https://wiki.gate.example.com").location).toBe("https://sso.example.org/auth");
  });

  it("never passes the gateway's cookie to the app", () => {
    expect(withoutAppCookie("a=1; __gatehouse_app=secret; b=2")).toBe("a=1; b=2");
    expect(withoutAppCookie("__gatehouse_app=secret")).toBeUndefined();
  });
});

describe("web targets", () => {
  it("take host and port from the internal URL, and need a name that can be a host name", () => {
    expect(targetInputSchema.parse({ name: "wiki", protocol: "web", internalUrl: "https://10.0.0.5/app" })).toMatchObject({ host: "10.0.0.5", port: 443, internalUrl: "https://10.0.0.5/app" });
    expect(targetInputSchema.parse({ name: "wiki", protocol: "web", internalUrl: "http://intranet:8080" })).toMatchObject({ host: "intranet", port: 8080 });
    const problems = (input: Record<string, unknown>) => targetInputSchema.safeParse(input).error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    expect(problems({ name: "wiki", protocol: "web", host: "h", port: 80 })).toEqual(["internalUrl: A web target needs its internal URL"]);
    expect(problems({ name: "Wiki_App", protocol: "web", internalUrl: "http://h" })).toEqual(["name: A web app's name becomes its host name: lowercase letters, digits and dashes"]);
    expect(problems({ name: "wiki", protocol: "web", internalUrl: "ftp://h" })?.[0]).toMatch(/^internalUrl: An http/);
  });
});
