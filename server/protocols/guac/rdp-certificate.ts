// The RDP server's TLS certificate, read the way an RDP client starts: an X.224 connection request asking for
// TLS (or NLA, which runs inside TLS), then a TLS handshake. The gateway pins what it sees on first use, as it
// pins SSH host keys, and the engine refuses any other certificate afterwards.
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** TPKT + X.224 Connection Request + RDP_NEG_REQ asking for PROTOCOL_SSL | PROTOCOL_HYBRID. */
const connectionRequest = Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]);
const negotiationResponse = 0x02;

export type CertificateProbe = { kind: "certificate"; fingerprint: string } | { kind: "no-tls" } | { kind: "failed"; message: string };

/** Reads the SHA-256 fingerprint (`AB:CD:…`) of the certificate the server presents; never sends credentials. */
export function readRdpCertificate(host: string, port: number, timeoutMs: number): Promise<CertificateProbe> {
  return new Promise((resolve) => {
    let socket: Socket = connect({ host, port });
    const timer = setTimeout(() => finish({ kind: "failed", message: `no answer from ${host}:${port} in time` }), timeoutMs);
    const finish = (result: CertificateProbe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    socket.once("error", (error: NodeJS.ErrnoException) => finish({ kind: "failed", message: error.code === "ECONNREFUSED" ? `${host}:${port} refused the connection` : error.message }));
    socket.once("connect", () => socket.write(connectionRequest));
    let received = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (received.length < 4) return;
      const length = received.readUInt16BE(2);
      if (received[0] !== 0x03 || length < 11) return finish({ kind: "failed", message: `${host}:${port} does not speak RDP` });
      if (received.length < length) return;
      socket.off("data", onData);
      // The negotiation response follows the 7-byte X.224 header; without one, the server only knows RDP security.
      const selected = length >= 19 && received[11] === negotiationResponse ? received.readUInt32LE(15) : 0;
      if (selected === 0) return finish({ kind: "no-tls" });
      const secure = tlsConnect({ socket, rejectUnauthorized: false });
      socket = secure;
      secure.once("secureConnect", () => {
        const fingerprint = secure.getPeerCertificate().fingerprint256;
        finish(fingerprint ? { kind: "certificate", fingerprint } : { kind: "failed", message: `${host}:${port} presented no certificate` });
      });
      secure.once("error", (error) => finish({ kind: "failed", message: `TLS with ${host}:${port} failed: ${error.message}` }));
    };
    socket.on("data", onData);
  });
}

/** Fingerprints compare without separators and case: `ab:cd…` and `ABCD…` are the same certificate. */
export const sameFingerprint = (a: string, b: string) => a.replace(/:/g, "").toLowerCase() === b.replace(/:/g, "").toLowerCase();
