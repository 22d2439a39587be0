// Who is on the other end of a request. Without a trusted proxy it is the socket's peer. Behind proxies it is
// read from X-Forwarded-For from the right, where the proxies append what they saw: the left part is whatever
// the client wrote, so it is never believed. TRUST_PROXY names either how many proxies stand in front (each
// appends one entry), or the networks they are in (entries from those networks are skipped; the first address
// that is not in them is the client — and if the peer itself is not in them, no header is believed at all).
import { BlockList, isIP } from "node:net";

export type TrustedProxies = { kind: "none" } | { kind: "hops"; hops: number } | { kind: "networks"; networks: BlockList; description: string };

/** `::ffff:10.0.0.1` and `10.0.0.1` are one address. */
function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

function trusted(networks: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && networks.check(address, family === 6 ? "ipv6" : "ipv4");
}

/** The client's address for the audit log and rate limits; `peer` is the socket's remote address. */
export function clientAddressOf(peer: string | undefined, forwardedFor: string | string[] | undefined, proxies: TrustedProxies): string {
  const socketAddress = normalize(peer ?? "unknown");
  if (proxies.kind === "none") return socketAddress;
  const chain = [...String(forwardedFor ?? "").split(",").map((entry) => normalize(entry.trim())).filter(Boolean), socketAddress];
  if (proxies.kind === "hops") {
    const client = chain[Math.max(0, chain.length - 1 - proxies.hops)]!;
    return isIP(client) ? client : socketAddress;
  }
  if (!trusted(proxies.networks, socketAddress)) return socketAddress;
  for (let index = chain.length - 1; index >= 0; index--) {
    const hop = chain[index]!;
    if (trusted(proxies.networks, hop)) continue;
    // Garbage where an address should be: the proxy that reported it is what is known.
    return isIP(hop) ? hop : chain[index + 1]!;
  }
  return chain[0]!;
}

/** TRUST_PROXY: false, true (one proxy), a number of proxies, or their networks as CIDRs. */
export function parseTrustedProxies(value: string): TrustedProxies | { problem: string } {
  const text = value.trim().toLowerCase();
  if (["false", "0", "no", "off"].includes(text)) return { kind: "none" };
  if (["true", "yes", "on"].includes(text)) return { kind: "hops", hops: 1 };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return hops >= 1 && hops <= 10 ? { kind: "hops", hops } : { problem: "must be a number of proxies from 1 to 10" };
  }
  const networks = new BlockList();
  for (const entry of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const [address, bits] = entry.split("/");
    const family = isIP(address ?? "");
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      return { problem: `"${entry}" is not a network; use false, true, a number of proxies, or CIDRs such as 10.0.0.0/8,fd00::/8` };
    }
    networks.addSubnet(address!, prefix, family === 6 ? "ipv6" : "ipv4");
  }
  return { kind: "networks", networks, description: text };
}
