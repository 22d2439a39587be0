// RDP and VNC targets: a Guacamole connection to the desktop engine (./engine-link.ts). The adapter does guacd's
// handshake with the vault's credential (which never reaches the browser), checks the RDP certificate against
// the pinned one, then carries the instruction stream both ways. The engine's `keyframe` marker, which says
// where a full frame starts, is taken out of the stream and raised as an event for the recorder; its `thumbnail`
// answers (a small JPEG for the dashboard) are taken out too and never reach the browser, and so are the window
// titles a RemoteApp desktop reports (`title`), raised as events for the window-title rules.
import { EventEmitter } from "node:events";
import type { DesktopSize } from "../../../lib/protocol/desktop";
import type { RdpSecurity } from "../../../lib/protocol/domain";
import { encodeInstruction, GuacamoleParser, type GuacInstruction } from "../../../lib/protocol/guacamole";
import { TargetError, type AdapterEvents, type ProtocolAdapter } from "../adapter";
import { engineAvailable, engineMissingMessage, openEngineLink, type EngineLink, type EngineLocation } from "./engine-link";
import { readRdpCertificate, sameFingerprint } from "./rdp-certificate";

export interface DesktopTarget {
  name: string;
  protocol: "rdp" | "vnc";
  host: string;
  port: number;
  /** The RDP server certificate's SHA-256 (`AB:CD:…`), pinned on first use. */
  hostKeyFingerprint: string | null;
  rdpSecurity: RdpSecurity;
  keyboardLayout: string;
  /** RDP: the program the server runs instead of a desktop (RemoteApp); null for the whole desktop. */
  remoteApp: string | null;
  clipboardCopy: boolean;
  clipboardPaste: boolean;
}

export interface DesktopLogin {
  username: string;
  secret: string;
}

export interface GuacAdapterOptions {
  engine: EngineLocation;
  connectTimeoutMs: number;
  size: DesktopSize;
  /** Called with the certificate an RDP server showed when none was pinned yet (trust on first use). */
  onFirstCertificate(fingerprint: string): Promise<void>;
}

/** guacd's status codes for the failures a user can act on (Guacamole protocol reference). */
const status = { upstreamTimeout: 514, upstreamNotFound: 519, unauthorized: 769, forbidden: 771 } as const;
/** The engine's handshake answer includes its own connect timeout; this covers a stuck engine. */
const handshakeGraceMs = 5000;
/** A thumbnail not answered by then is given up (the engine may be busy connecting or reconnecting). */
const thumbnailWaitMs = 5000;
/**
 * The engine keeps its thumbnails under this (it lowers the quality of a busy screen's); a bigger one is refused.
 * As base64 it stays inside the parser's 64 KiB instruction limit, which would otherwise end the session.
 */
const thumbnailLimitBytes = 40 * 1024;
const jpegStart = Buffer.from([0xff, 0xd8, 0xff]);
/** The engine cuts titles to 512 characters; a longer one, or a window id that is not a number, is dropped. */
const titleLimit = 512;
const windowIdPattern = /^\d{1,10}$/;

export class GuacAdapter extends EventEmitter<AdapterEvents> implements ProtocolAdapter {
  private link: EngineLink | null = null;
  private readonly parser = new GuacamoleParser();
  private ready = false;
  private firstFrameSeen = false;
  private thumbnailWanted: ((jpeg: Buffer | null) => void) | null = null;

  constructor(
    private readonly target: DesktopTarget,
    private readonly login: DesktopLogin,
    private readonly options: GuacAdapterOptions,
  ) {
    super();
  }

  async start(): Promise<void> {
    const { engine } = this.options;
    if (!engineAvailable(engine)) throw new TargetError(engineMissingMessage);
    const pinned = await this.checkCertificate();
    const link = openEngineLink(engine, this.target.name);
    this.link = link;
    link.toEngine.on("drain", () => this.emit("drain"));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new TargetError(`${this.target.name} did not open a desktop in time`)), this.options.connectTimeoutMs + handshakeGraceMs);
      const fail = (error: TargetError) => {
        clearTimeout(timer);
        link.fromEngine.off("data", onData);
        link.close();
        reject(error);
      };
      const onData = (data: Buffer) => {
        let instructions: GuacInstruction[];
        try {
          instructions = this.parser.push(data);
        } catch (error) {
          return fail(new TargetError(`the desktop engine sent something that is not Guacamole: ${(error as Error).message}`));
        }
        for (const [index, instruction] of instructions.entries()) {
          if (instruction.opcode === "args") this.connect(link, instruction.args, pinned);
          else if (instruction.opcode === "error") return fail(this.describeError(instruction.args));
          else if (instruction.opcode === "ready") {
            clearTimeout(timer);
            link.fromEngine.off("data", onData);
            this.ready = true;
            link.fromEngine.on("data", (more: Buffer) => this.relay(more));
            link.onEnd((problem) => this.emit("closed", problem ? `${this.target.name}: ${problem}` : `${this.target.name} closed the desktop`));
            resolve();
            this.relayInstructions(instructions.slice(index + 1));
            return;
          }
        }
      };
      link.fromEngine.on("data", onData);
      link.onEnd((problem) => {
        if (!this.ready) fail(new TargetError(problem ? `${this.target.name}: ${problem}` : `the desktop engine closed before ${this.target.name} was connected`));
      });
      link.toEngine.write(encodeInstruction("select", [this.target.protocol]));
    });
  }

  /**
   * RDP over TLS: the certificate pinned for the target, pinning the one shown now if there is none. The engine
   * is then told to accept only that certificate; an Apache guacd that cannot be told so is checked here instead.
   */
  private async checkCertificate(): Promise<string | null> {
    const { target } = this;
    if (target.protocol !== "rdp") return null;
    if (target.rdpSecurity === "rdp") {
      // Standard RDP security has no certificate: a pin would silently go unchecked. The admin clears it first.
      if (target.hostKeyFingerprint) throw this.standardSecurityRefused(`${target.name} has a pinned certificate, which standard RDP security cannot check; an admin must clear the pin to use standard RDP security`);
      return null;
    }
    if (target.hostKeyFingerprint && this.options.engine.kind === "built-in") return target.hostKeyFingerprint;
    const probe = await readRdpCertificate(target.host, target.port, this.options.connectTimeoutMs);
    if (probe.kind === "failed") throw new TargetError(`could not connect to ${target.name}: ${probe.message}`);
    if (probe.kind === "no-tls") throw this.standardSecurityRefused(this.downgradeMessage());
    if (!target.hostKeyFingerprint) {
      await this.options.onFirstCertificate(probe.fingerprint);
      return probe.fingerprint;
    }
    if (!sameFingerprint(target.hostKeyFingerprint, probe.fingerprint)) throw this.certificateChanged(target.hostKeyFingerprint, probe.fingerprint);
    return target.hostKeyFingerprint;
  }

  private downgradeMessage() {
    return `${this.target.name} offered only standard RDP security, which cannot prove the desktop's identity: the password was not sent. Turn on TLS or NLA on the desktop, or (accepting the risk) set the target's RDP security to standard RDP security`;
  }

  private standardSecurityRefused(message: string) {
    return new TargetError(message, "target.rdp_security_refused", { security: this.target.rdpSecurity });
  }

  private certificateChanged(expected: string, got: string) {
    return new TargetError(
      `the certificate of ${this.target.name} changed: expected ${expected}, got ${got}. The connection was refused; an admin must confirm the new certificate`,
      "target.certificate_mismatch",
      { expected, got },
    );
  }

  /** Answers the engine's `args` with the value of each parameter it asked for, by name, as guacd clients do. */
  private connect(link: EngineLink, names: string[], pinnedCertificate: string | null) {
    const { target, login, options } = this;
    const versioned = names[0]?.startsWith("VERSION_") ?? false;
    const wanted = versioned ? names.slice(1) : names;
    const values: Record<string, string> = {
      hostname: target.host,
      port: String(target.port),
      username: login.username,
      password: login.secret,
      width: String(options.size.width),
      height: String(options.size.height),
      dpi: String(options.size.dpi),
      security: target.rdpSecurity,
      "cert-fingerprints": pinnedCertificate ?? "",
      // A guacd that cannot pin had the certificate checked above; one that can is held to the pin.
      "ignore-cert": target.protocol === "rdp" && !wanted.includes("cert-fingerprints") && (pinnedCertificate !== null || target.rdpSecurity === "rdp") ? "true" : "",
      "server-layout": target.keyboardLayout,
      "remote-app": target.remoteApp ?? "",
      "resize-method": "display-update",
      "disable-copy": target.clipboardCopy ? "" : "true",
      "disable-paste": target.clipboardPaste ? "" : "true",
    };
    const { width, height, dpi } = options.size;
    const handshake = [
      encodeInstruction("size", [width, height, dpi]),
      encodeInstruction("audio"),
      encodeInstruction("video"),
      encodeInstruction("image", ["image/png", "image/jpeg", "image/webp"]),
      encodeInstruction("connect", [...(versioned ? [names[0]!] : []), ...wanted.map((name) => values[name] ?? "")]),
    ];
    link.toEngine.write(handshake.join(""));
  }

  private describeError([message = "", code = ""]: string[]): TargetError {
    const { target, login } = this;
    switch (Number(code)) {
      case status.unauthorized:
        return new TargetError(`${target.name} rejected the stored credential${login.username ? ` for user ${login.username}` : ""}; ask an admin to check it`);
      case status.forbidden:
        if (message.includes("standard RDP security")) return this.standardSecurityRefused(this.downgradeMessage());
        return target.hostKeyFingerprint ? this.certificateChanged(target.hostKeyFingerprint, message.match(/got ([0-9A-Fa-f:]+)/)?.[1] ?? "another certificate") : new TargetError(`${target.name}: ${message}`);
      case status.upstreamNotFound:
      case status.upstreamTimeout:
        return new TargetError(`could not connect to ${target.name}: ${message}`);
      default:
        return new TargetError(`${target.name}: ${message || "the desktop could not be opened"}`);
    }
  }

  private relay(data: Buffer) {
    let instructions: GuacInstruction[];
    try {
      instructions = this.parser.push(data);
    } catch (error) {
      this.emit("closed", `the desktop engine sent something that is not Guacamole: ${(error as Error).message}`);
      this.close();
      return;
    }
    this.relayInstructions(instructions);
  }

  private relayInstructions(instructions: GuacInstruction[]) {
    let output = "";
    for (const { opcode, args } of instructions) {
      if (opcode === "keyframe") {
        if (output) this.emit("output", Buffer.from(output, "utf8"));
        output = "";
        this.emit("keyframe");
      } else if (opcode === "thumbnail") {
        this.thumbnailAnswered(args);
      } else if (opcode === "title") {
        const [windowId = "", title = ""] = args;
        if (windowIdPattern.test(windowId) && title.length <= titleLimit) this.emit("title", windowId, title);
      } else if (opcode === "error") {
        this.emit("closed", `${this.target.name}: ${args[0] ?? "the desktop connection failed"}`);
      } else if (opcode !== "disconnect") {
        output += encodeInstruction(opcode, args);
        if (opcode === "sync" && !this.firstFrameSeen) {
          this.firstFrameSeen = true;
          this.emit("firstScreen");
        }
      }
    }
    if (output) this.emit("output", Buffer.from(output, "utf8"));
  }

  /** Asks the engine for a full frame now (for recordings and watchers); false where it cannot give one. */
  requestKeyframe(): boolean {
    if (!this.ready || !this.link?.ownEngine) return false;
    this.link.toEngine.write(encodeInstruction("keyframe"));
    return true;
  }

  /** Asks the built-in engine for the screen scaled down; null where there is none (yet) or no answer came. */
  thumbnail(maxWidth: number): Promise<Buffer | null> {
    if (!this.ready || !this.link?.ownEngine || this.thumbnailWanted) return Promise.resolve(null);
    const link = this.link;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.thumbnailAnswered(null), thumbnailWaitMs);
      this.thumbnailWanted = (jpeg) => {
        clearTimeout(timer);
        resolve(jpeg);
      };
      link.toEngine.write(encodeInstruction("thumbnail", [String(maxWidth)]));
    });
  }

  /** `thumbnail,<width>,<height>,<base64 JPEG>` from the engine, checked before anyone shows it. */
  private thumbnailAnswered(args: string[] | null) {
    const waiting = this.thumbnailWanted;
    this.thumbnailWanted = null;
    if (!waiting) return;
    const data = args?.[2] ?? "";
    const jpeg = /^[A-Za-z0-9+/]+={0,2}$/.test(data) && data.length <= Math.ceil(thumbnailLimitBytes / 3) * 4 ? Buffer.from(data, "base64") : null;
    waiting(jpeg && jpeg.subarray(0, 3).equals(jpegStart) ? jpeg : null);
  }

  write(data: Buffer): boolean {
    return this.link ? this.link.toEngine.write(data) : true;
  }

  pause(): void {
    this.link?.fromEngine.pause();
  }

  resume(): void {
    this.link?.fromEngine.resume();
  }

  close(): void {
    this.thumbnailAnswered(null);
    if (this.ready) this.link?.toEngine.write(encodeInstruction("disconnect"));
    this.link?.close();
  }
}
