import { describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/infra/config";
import { clientAddressOf, parseTrustedProxies, type TrustedProxies } from "@/lib/infra/http/client-address";

const proxies = (value: string) => parseTrustedProxies(value) as TrustedProxies;

describe("the client's address", () => {
  it("is the socket's peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddressOf("203.0.113.9", "1.2.3.4", proxies("false"))).toBe("203.0.113.9");
    expect(clientAddressOf("::ffff:127.0.0.1", undefined, proxies("false"))).toBe("127.0.0.1");
  });

  it("counts proxies from the right, so a client's own X-Forwarded-For entry is never believed", () => {
    // One proxy appended what it saw (198.51.100.7); the client had written 1.2.3.4 itself.
    expect(clientAddressOf("10.0.0.2", "1.2.3.4, 198.51.100.7", proxies("1"))).toBe("198.51.100.7");
    expect(clientAddressOf("10.0.0.2", "1.2.3.4, 198.51.100.7", proxies("true"))).toBe("198.51.100.7");
    expect(clientAddressOf("10.0.0.3", "1.2.3.4, 198.51.100.7, 10.0.0.2", proxies("2"))).toBe("198.51.100.7");
    expect(clientAddressOf("10.0.0.2", "not-an-address", proxies("1"))).toBe("10.0.0.2");
  });

  it("skips trusted networks from the right, and believes nothing when the peer is not one of them", () => {
    const internal = proxies("10.0.0.0/8, fd00::/8");
    expect(clientAddressOf("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.1.2.3", internal)).toBe("198.51.100.7");
    expect(clientAddressOf("203.0.113.9", "10.0.0.1", internal)).toBe("203.0.113.9");
    expect(clientAddressOf("fd00::1", "2001:db8::5", internal)).toBe("2001:db8::5");
    expect(clientAddressOf("10.0.0.2", "<script>, 10.0.0.5", internal)).toBe("10.0.0.5");
  });

  it("takes TRUST_PROXY as false, true, a number of proxies or networks, and names a bad value", () => {
    expect(parseConfig({}).trustProxy).toEqual({ kind: "none" });
    expect(parseConfig({ TRUST_PROXY: "2" }).trustProxy).toEqual({ kind: "hops", hops: 2 });
    expect(parseConfig({ TRUST_PROXY: "10.0.0.0/8" }).trustProxy.kind).toBe("networks");
    expect(() => parseConfig({ TRUST_PROXY: "10.0.0.0/40" })).toThrow(/TRUST_PROXY "10.0.0.0\/40" is not a network/);
    expect(() => parseConfig({ TRUST_PROXY: "99" })).toThrow(/TRUST_PROXY must be a number of proxies from 1 to 10/);
  });
});
