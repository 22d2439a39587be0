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
  const networks = networkList(text.split(","));
  if ("problem" in networks) return { problem: `"${networks.problem}" is not a network; use false, true, a number of proxies, or CIDRs such as 10.0.0.0/8,fd00::/8` };
  return { kind: "networks", networks, description: text };
}

/** `10.0.0.0/8`, `fd00::/8` or a single address; null when it is none of these. */
export function parseNetwork(entry: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address, bits, extra] = entry.trim().split("/");
  const family = isIP(address ?? "");
  const prefix = bits === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix > (family === 6 ? 128 : 32)) return null;
  return { address: address!, prefix, family: family === 6 ? "ipv6" : "ipv4" };
}

/** The networks as one list to check addresses against, or the first entry that is not a network. */
export function networkList(entries: string[]): BlockList | { problem: string } {
  const networks = new BlockList();
  for (const entry of entries.map((part) => part.trim()).filter(Boolean)) {
    const network = parseNetwork(entry);
    if (!network) return { problem: entry };
    networks.addSubnet(network.address, network.prefix, network.family);
  }
  return networks;
}

/** Whether the address (as the gateway established it) is in the list; `::ffff:` forms count as IPv4. */
export function addressIn(networks: BlockList, address: string): boolean {
  return trusted(networks, normalize(address));
}
