import { brotliCompressSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isUserActivity, navigationOf, navigationTag } from "@/lib/protocol/page-recorder";
import { decodePage } from "@/server/web/page-recording";
import { allowRecorder, injectRecorder, isRecordablePage, recorderAllowance } from "@/server/web/recorder-injection";

const allowance = recorderAllowance("https://wiki.gate.example.com", "sha384-abc");
const script = "https://wiki.gate.example.com/__gatehouse/rec.js";
const events = "wss://wiki.gate.example.com/__gatehouse/events";

describe("the app's Content-Security-Policy, widened for the recorder", () => {
  it("allows the script by hash where the policy allows scripts by nonce, and gives its tag the nonce", () => {
    const { header, nonce } = allowRecorder("default-src 'self'; script-src 'nonce-r4nd0m' 'strict-dynamic'", allowance);
    expect(header).toBe(`default-src 'self'; script-src 'nonce-r4nd0m' 'strict-dynamic' 'sha384-abc'; connect-src 'self' ${events}`);
    expect(nonce).toBe("r4nd0m");
  });

  it("allows the script by address where a hash would switch off the app's 'unsafe-inline'", () => {
    const { header, nonce } = allowRecorder("script-src 'self' 'unsafe-inline'; connect-src https://api.example.com", allowance);
    expect(header).toBe(`script-src 'self' 'unsafe-inline' ${script}; connect-src https://api.example.com ${events}`);
    expect(nonce).toBeNull();
  });

  it("widens 'none' to the recorder alone, and a missing directive from default-src only", () => {
    expect(allowRecorder("default-src 'none'; img-src *", allowance).header).toBe(`default-src 'none'; img-src *; script-src ${script}; connect-src ${events}`);
  });

  it("leaves a policy that restricts neither scripts nor connections as it is, and widens each of several policies", () => {
    expect(allowRecorder("frame-ancestors 'self'", allowance).header).toBe("frame-ancestors 'self'");
    expect(allowRecorder("script-src 'self', connect-src 'self'", allowance).header).toBe(`script-src 'self' ${script}, connect-src 'self' ${events}`);
  });
});

describe("the recorder's tag in a page", () => {
  const options = { nonce: null, maskAllInputs: false };
  const tag = '<script defer src="/__gatehouse/rec.js" integrity="sha384-abc" data-mask-all-inputs="false"></script>';

  it("goes first in <head>, else in <html>, else before everything", () => {
    expect(injectRecorder('<!doctype html><html lang="en"><head><title>x</title></head><body><header>h</header></body></html>', allowance, options)).toBe(
      `<!doctype html><html lang="en"><head>${tag}<title>x</title></head><body><header>h</header></body></html>`,
    );
    expect(injectRecorder("<html><body>x</body></html>", allowance, options)).toBe(`<html>${tag}<body>x</body></html>`);
    expect(injectRecorder("<p>x</p>", allowance, options)).toBe(`${tag}<p>x</p>`);
  });

  it("carries the policy's nonce and the target's masking, and widens a policy set in a <meta> tag", () => {
    const page = injectRecorder(`<head><meta http-equiv="Content-Security-Policy" content="script-src 'nonce-m3ta'"></head>`, allowance, { nonce: null, maskAllInputs: true });
    expect(page).toContain('nonce="m3ta" data-mask-all-inputs="true"');
    expect(page).toContain(`content="script-src 'nonce-m3ta' 'sha384-abc'"`);
  });
});

describe("which responses are recorded pages", () => {
  const html = { "content-type": "text/html; charset=utf-8" };

  it("records documents the user opens, not fragments, frames, downloads, redirects or other types", () => {
    expect(isRecordablePage("GET", { "sec-fetch-dest": "document" }, 200, html)).toBe(true);
    expect(isRecordablePage("GET", {}, 404, html)).toBe(true);
    expect(isRecordablePage("GET", { "sec-fetch-dest": "empty" }, 200, html)).toBe(false);
    expect(isRecordablePage("GET", { "sec-fetch-dest": "iframe" }, 200, html)).toBe(false);
    expect(isRecordablePage("HEAD", {}, 200, html)).toBe(false);
    expect(isRecordablePage("GET", {}, 302, html)).toBe(false);
    expect(isRecordablePage("GET", {}, 200, { ...html, "content-disposition": "attachment; filename=a.html" })).toBe(false);
    expect(isRecordablePage("GET", {}, 200, { "content-type": "application/json" })).toBe(false);
  });

  it("reads compressed pages and gives up on encodings it does not know", async () => {
    const page = Buffer.from("<html>é</html>");
    expect(await decodePage(gzipSync(page), "gzip")).toEqual({ ok: true, html: page });
    expect(await decodePage(brotliCompressSync(page), "br")).toEqual({ ok: true, html: page });
    expect(await decodePage(page, undefined)).toEqual({ ok: true, html: page });
    expect(await decodePage(page, "zstd")).toEqual({ ok: false, reason: "content coding zstd is not decoded by the gateway" });
    expect(await decodePage(Buffer.from("not gzip"), "gzip")).toEqual({ ok: false, reason: "not valid gzip" });
  });

  it("decodes within the page limit, never past it, and never more than one coding", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100 * 1024);
    expect(await decodePage(bomb, "gzip", 1024 * 1024)).toEqual({ ok: false, reason: "too large" });
    expect(await decodePage(brotliCompressSync(Buffer.alloc(4 * 1024 * 1024)), "br", 1024 * 1024)).toEqual({ ok: false, reason: "too large" });
    expect(await decodePage(gzipSync(gzipSync(Buffer.from("<html></html>"))), "gzip, gzip")).toEqual({ ok: false, reason: "more than one content coding (gzip, gzip)" });
    expect(await decodePage(Buffer.alloc(2048), undefined, 1024)).toEqual({ ok: false, reason: "too large" });
  });
});

describe("page events the gateway reads", () => {
  it("tells the user acting from the app changing the page", () => {
    expect(isUserActivity({ type: 3, timestamp: 1, data: { source: 2 } })).toBe(true);
    expect(isUserActivity({ type: 3, timestamp: 1, data: { source: 5 } })).toBe(true);
    expect(isUserActivity({ type: 3, timestamp: 1, data: { source: 0 } })).toBe(false);
    expect(isUserActivity({ type: 2, timestamp: 1, data: {} })).toBe(false);
  });

  it("finds page loads and in-app navigations", () => {
    expect(navigationOf({ type: 4, timestamp: 1, data: { href: "https://wiki/a", width: 1, height: 1 } })).toBe("https://wiki/a");
    expect(navigationOf({ type: 5, timestamp: 1, data: { tag: navigationTag, payload: { href: "https://wiki/b" } } })).toBe("https://wiki/b");
    expect(navigationOf({ type: 5, timestamp: 1, data: { tag: "other", payload: { href: "https://wiki/c" } } })).toBeNull();
  });
});
