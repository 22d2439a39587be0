import { describe, expect, it } from "vitest";
import { targetInputSchema } from "@/lib/protocol/admin";
import { cookieHeaderWithout, cookieValues, singleCookie } from "@/lib/infra/http/cookies";
import { appCookieNames, appNameOfHost, appOrigin, safeReturnPath } from "@/lib/domain/web-app-hosts";
import { endToEnd, rewriteResponseHeaders } from "@/server/web/proxy-headers";
import { upstreamPath } from "@/server/web/upstream";

describe("web app hosts", () => {
  const publicUrl = new URL("https://gate.example.com:8443");
  const underGateway = { publicUrl, appsDomain: publicUrl.host };

  it("finds the app a Host names, only under the gateway's own host", () => {
    expect(appNameOfHost(underGateway, "wiki.gate.example.com:8443")).toBe("wiki");
    expect(appNameOfHost(underGateway, "WIKI.Gate.Example.com:8443")).toBe("wiki");
    expect(appNameOfHost(underGateway, "gate.example.com:8443")).toBeNull();
    expect(appNameOfHost(underGateway, "wiki.gate.example.com")).toBeNull();
    expect(appNameOfHost(underGateway, "a.b.gate.example.com:8443")).toBeNull();
    expect(appNameOfHost(underGateway, "evil.com:8443")).toBeNull();
    expect(appNameOfHost(underGateway, undefined)).toBeNull();
  });

  it("puts apps under a dedicated domain when APPS_DOMAIN names one, and never takes the gateway's host for an app", () => {
    const dedicated = { publicUrl: new URL("https://gate.example.com"), appsDomain: "example.com" };
    expect(appOrigin(dedicated, "wiki")).toBe("https://wiki.example.com");
    expect(appNameOfHost(dedicated, "wiki.example.com")).toBe("wiki");
    expect(appNameOfHost(dedicated, "gate.example.com")).toBeNull();
  });

  it("names its cookies __Host- on https, so no other host of the site can set or shadow them", () => {
    expect(appCookieNames(new URL("https://gate.example.com"))).toEqual({ session: "__Host-gatehouse_app", state: "__Host-gatehouse_state" });
    expect(appCookieNames(new URL("http://localhost:3000"))).toEqual({ session: "__gatehouse_app", state: "__gatehouse_state" });
  });

  it("returns only to a path on the same origin, never to another one", () => {
    expect(safeReturnPath("/page?x=1#top")).toBe("/page?x=1#top");
    expect(safeReturnPath("/a b")).toBe("/a%20b");
    const elsewhere = ["//evil.com/", "/\\evil.com", "/\t/evil.example", "/\n/evil.example", "/%09/x\\y", "https://evil.com/", "javascript:alert(1)", "", null, undefined];
    for (const value of elsewhere) expect(safeReturnPath(value), String(value)).toBe("/");
  });
});

describe("one upstream: the request-target", () => {
  it("passes plain paths on as they came, encoded slashes inside a path included", () => {
    for (const path of ["/", "/page?x=1", "/api/v4/projects/group%2Fproject", "/a//b", "/search?q=//x"]) expect(upstreamPath("GET", path)).toEqual({ path });
  });

  it("refuses every form that could name another host", () => {
    const forms = ["http://10.0.0.9:8080/x", "https://evil/", "10.0.0.9:22", "*", "//evil/x", "/\\evil/x", "/%2F/evil", "/%2f%2fevil", "/%5Cevil", "/%252F%252Fevil", "/\tx", "/%0d%0aHost:evil", "/a\\b", ""];
    for (const form of forms) expect(upstreamPath("GET", form), form).toMatchObject({ refusal: { status: 400 } });
  });

  it("refuses the methods that reflect or tunnel", () => {
    for (const method of ["TRACE", "track", "CONNECT"]) expect(upstreamPath(method, "/")).toMatchObject({ refusal: { status: 405 } });
  });
});

describe("cookies", () => {
  it("reads every value of a name, and only a single one counts", () => {
    expect(cookieValues("a=1; __gatehouse_app=x%3D; b=2; __gatehouse_app=y", "__gatehouse_app")).toEqual(["x=", "y"]);
    expect(singleCookie("a=1; s=t", "s")).toBe("t");
    expect(singleCookie("s=t; s=u", "s")).toBeNull();
    expect(singleCookie("", "s")).toBeNull();
  });
});

describe("the app proxy's headers", () => {
  const internal = new URL("http://10.0.0.5:8080");
  const gatewayCookies = ["__Host-gatehouse_app", "__Host-gatehouse_state"];

  it("forwards no hop-by-hop header, nor one that Connection names", () => {
    expect(endToEnd({ connection: "keep-alive, x-secret-hop", "keep-alive": "timeout=5", "x-secret-hop": "1", "transfer-encoding": "chunked", upgrade: "websocket", accept: "text/html" })).toEqual({ accept: "text/html" });
  });

  it("rewrites redirects to the internal address onto the app host and strips cookie domains", () => {
    const headers = rewriteResponseHeaders({ location: "http://10.0.0.5:8080/login?next=%2F#f", "set-cookie": ["sid=1; Domain=10.0.0.5; Path=/; HttpOnly", "theme=dark"] }, internal, "https://wiki.gate.example.com", gatewayCookies);
    expect(headers.location).toBe("https://wiki.gate.example.com/login?next=%2F#f");
    expect(headers["set-cookie"]).toEqual(["sid=1; Path=/; HttpOnly", "theme=dark"]);
    expect(rewriteResponseHeaders({ location: "/relative" }, internal, "https://wiki.gate.example.com", gatewayCookies).location).toBe("https://wiki.gate.example.com/relative");
    expect(rewriteResponseHeaders({ location: "https://sso.example.org/auth" }, internal, "https://wiki.gate.example.com", gatewayCookies).location).toBe("https://sso.example.org/auth");
  });

  it("lets no app set the gateway's cookies on its host, nor leave a Domain on one of its own", () => {
    const cookies = ["__Host-gatehouse_app=forged; Path=/; Secure; HttpOnly", "__host-GATEHOUSE_STATE=forged; Path=/", "sid=1; Domain=10.0.0.5; Path=/; domain = gate.example.com", "theme=dark"];
    expect(rewriteResponseHeaders({ "set-cookie": cookies }, internal, "https://wiki.gate.example.com", gatewayCookies)["set-cookie"]).toEqual(["sid=1; Path=/", "theme=dark"]);
    expect(rewriteResponseHeaders({ "set-cookie": cookies.slice(0, 1) }, internal, "https://wiki.gate.example.com", gatewayCookies)).not.toHaveProperty("set-cookie");
  });

  it("never passes the gateway's cookies to the app", () => {
    const names = ["__gatehouse_app", "__gatehouse_state"];
    expect(cookieHeaderWithout("a=1; __gatehouse_app=secret; b=2; __gatehouse_state=s", names)).toBe("a=1; b=2");
    expect(cookieHeaderWithout("__gatehouse_app=secret", names)).toBeUndefined();
  });

  it("drops a redirect it cannot parse rather than pass it on", () => {
    expect(rewriteResponseHeaders({ location: "http://[bad" }, internal, "https://wiki.gate.example.com", gatewayCookies).location).toBeUndefined();
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
