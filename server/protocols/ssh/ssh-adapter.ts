// SSH targets: an ssh2 client logs in with the vault's credential, checks the pinned host key, and opens an
// interactive PTY shell whose bytes the session carries.
import { EventEmitter } from "node:events";
import { connect } from "node:net";
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { TargetError, type AdapterEvents, type ProtocolAdapter, type TerminalSize } from "../adapter";
import { readFairly } from "../fair-reads";
import { legacyAlgorithms, modernAlgorithms } from "./algorithms";
import { hostKeyFingerprint } from "./host-key";
import { log } from "../../../lib/infra/log";

export interface SshTarget {
  name: string;
  host: string;
  port: number;
  hostKeyFingerprint: string | null;
  legacyAlgorithms: boolean;
}

export interface SshLogin {
  kind: "password" | "private_key";
  username: string;
  secret: string;
}

export interface SshAdapterOptions {
  connectTimeoutMs: number;
  /** The browser terminal's size when the shell opens. */
  size: TerminalSize;
  /** Called with the fingerprint a target showed when none was pinned yet (trust on first use). */
  onFirstHostKey(fingerprint: string): Promise<void>;
}

// ssh2 types the environment as a whole process environment; we send one variable.
const utf8Environment = { LANG: "C.UTF-8" } as Partial<NodeJS.ProcessEnv> as NodeJS.ProcessEnv;

function describeConnectError(error: Error & { code?: string; level?: string }, target: SshTarget, login: SshLogin, handshakeDone: boolean): TargetError {
  const where = `${target.host}:${target.port}`;
  if (handshakeDone && /timed out/i.test(error.message)) return new TargetError(`${target.name} did not accept the login for user ${login.username} in time`);
  if (error.level === "client-authentication") return new TargetError(`${target.name} rejected the stored credential for user ${login.username}; ask an admin to check it`);
  if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") return new TargetError(`the name ${target.host} does not resolve`);
  if (error.code === "ECONNREFUSED") return new TargetError(`${where} refused the connection`);
  if (error.code === "EHOSTUNREACH" || error.code === "ENETUNREACH") return new TargetError(`${where} is unreachable from the gateway`);
  if (error.code === "ETIMEDOUT" || /timed out/i.test(error.message)) return new TargetError(`no answer from ${where} in time`);
  if (error.level === "handshake" && /no matching/i.test(error.message)) {
    const hint = target.legacyAlgorithms ? "" : "; if it is an old device, an admin can allow legacy algorithms for this target";
    return new TargetError(`${target.name} and the gateway share no ${error.message.replace(/^.*no matching /i, "").replace(/ *$/, "")}${hint}`);
  }
  if (error.code === "ECONNRESET") return new TargetError(`${where} closed the connection during login`);
  return new TargetError(`could not connect to ${target.name}: ${error.message}`);
}

export class SshAdapter extends EventEmitter<AdapterEvents> implements ProtocolAdapter {
  private readonly client = new Client();
  private shell: ClientChannel | null = null;
  private hostKeyProblem: TargetError | null = null;

  constructor(
    private readonly target: SshTarget,
    private readonly login: SshLogin,
    private readonly options: SshAdapterOptions,
  ) {
    super();
  }

  private verifyHostKey(key: Buffer): boolean {
    const shown = hostKeyFingerprint(key);
    const pinned = this.target.hostKeyFingerprint;
    if (pinned === null) {
      this.options.onFirstHostKey(shown).catch((error) => log.error({ err: error }, "pinning a host key failed"));
      return true;
    }
    if (pinned === shown) return true;
    this.hostKeyProblem = new TargetError(
      `host key for ${this.target.name} changed: expected ${pinned}, got ${shown}. The connection was refused; an admin must confirm the new key`,
      "target.host_key_mismatch",
      { expected: pinned, got: shown },
    );
    return false;
  }

  start(): Promise<void> {
    const { size } = this.options;
    // Keystrokes are small packets: sent at once, not held back for the previous one's acknowledgement.
    const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const config: ConnectConfig = {
      sock: socket,
      username: this.login.username,
      ...(this.login.kind === "password" ? { password: this.login.secret } : { privateKey: this.login.secret }),
      readyTimeout: this.options.connectTimeoutMs,
      keepaliveInterval: 30_000,
      hostVerifier: (key: Buffer) => this.verifyHostKey(key),
      algorithms: this.target.legacyAlgorithms ? legacyAlgorithms : modernAlgorithms,
    };
    return new Promise((resolve, reject) => {
      let opened = false;
      let handshakeDone = false;
      this.client.once("handshake", () => (handshakeDone = true));
      this.client.once("ready", () => {
        // A browser terminal speaks UTF-8; say so, as OpenSSH clients do with SendEnv (servers that accept
        // LANG apply it, others ignore it). C.UTF-8 exists on every current glibc.
        this.client.shell({ term: "xterm-256color", cols: size.cols, rows: size.rows }, { env: utf8Environment }, (error, shell) => {
          if (error) return reject(new TargetError(`${this.target.name} refused a shell: ${error.message}`));
          opened = true;
          this.shell = shell;
          shell.once("data", () => this.emit("firstScreen"));
          shell.on("data", (data: Buffer) => this.emit("output", data));
          shell.stderr.on("data", (data: Buffer) => this.emit("output", data));
          shell.on("drain", () => this.emit("drain"));
          shell.on("error", (error: Error) => this.emit("closed", `the connection to ${this.target.name} failed: ${error.message}`));
          shell.once("close", () => {
            this.client.end();
            this.emit("closed", `${this.target.name} closed the connection`);
          });
          resolve();
        });
      });
      this.client.on("error", (error: Error & { code?: string; level?: string }) => {
        if (!opened) reject(this.hostKeyProblem ?? describeConnectError(error, this.target, this.login, handshakeDone));
        else this.emit("closed", `the connection to ${this.target.name} failed: ${error.message}`);
      });
      this.client.once("close", () => {
        if (!opened) reject(this.hostKeyProblem ?? new TargetError(`${this.target.host}:${this.target.port} closed the connection during login`));
      });
      this.client.connect(config);
      // After connect(), which holds the socket paused until the handshake: a listener added earlier would start it.
      readFairly(socket);
    });
  }

  write(data: Buffer): boolean {
    return this.shell ? this.shell.write(data) : true;
  }

  resize({ cols, rows }: TerminalSize): void {
    this.shell?.setWindow(rows, cols, 0, 0);
  }

  pause(): void {
    this.shell?.pause();
  }

  resume(): void {
    this.shell?.resume();
  }

  close(): void {
    this.shell?.removeAllListeners("close");
    this.client.end();
  }
}
