// The `terminal` purpose: an interactive shell on an SSH target, with the credential from the vault.
import { audit } from "../lib/data/audit";
import { openCredential } from "../lib/data/credentials";
import { terminalSizeSchema } from "../lib/protocol/session-socket";
import type { Runtime } from "../lib/infra/runtime";
import { pinHostKey } from "../lib/data/targets";
import { refuseSession, type SocketRoute } from "./gate";
import { CommandPolicy } from "./inspector/command-policy";
import { SshAdapter } from "./protocols/ssh/ssh-adapter";
import { TerminalStream } from "./protocols/terminal-stream";
import type { Keyframer } from "./recorder/keyframer";
import { ScreenTail } from "./recorder/screen-tail";
import { TerminalRecorder } from "./recorder/terminal-recorder";
import { Session } from "./session";
import { log } from "../lib/infra/log";

const defaultSize = { cols: 80, rows: 24 };

export function createTerminalRoute({ db, vault, config, blobStore, ruleBook }: Runtime, keyframer: Keyframer): SocketRoute {
  return (socket, pass) => {
    const { user, target, actor, url, access } = pass;
    const recorded = target.recordSessions || Boolean(access?.recordingRequired);
    const refuse = (message: string) => refuseSession(socket, message);
    if (target.protocol !== "ssh") return refuse(`${target.name} is a ${target.protocol.toUpperCase()} target, not a terminal`);
    if (!target.credentialId) return refuse(`${target.name} has no credential to log in with; ask an admin to set one`);
    const size = terminalSizeSchema.safeParse({ cols: Number(url.searchParams.get("cols")), rows: Number(url.searchParams.get("rows")) });

    void (async () => {
      const login = await openCredential(db, vault, target.credentialId!);
      if (!login) return refuse(`${target.name} has no credential to log in with; ask an admin to set one`);
      const initialSize = size.success ? size.data : defaultSize;
      const adapter = new SshAdapter(target, login, {
        connectTimeoutMs: config.targetConnectTimeoutMs,
        size: initialSize,
        async onFirstHostKey(fingerprint) {
          await pinHostKey(db, target.id, fingerprint);
          await audit(db, actor, { action: "target.host_key_pinned", objectType: "target", objectId: target.id, details: { target: target.name, fingerprint } });
        },
      });
      const session = new Session({ db, nodeName: config.nodeName, socket, ...pass }, {
        adapter,
        stream: new TerminalStream(initialSize),
        commandPolicy: new CommandPolicy(ruleBook.forSession({ person: user, target, protocol: "ssh", policyNames: access?.policies ?? [] }), initialSize),
        startRecorder: ({ id, startedAt }) =>
          recorded
            ? new TerminalRecorder({ db, blobStore, sessionId: id, startedAt, size: initialSize, title: `${user.username}@${target.name}`, keyframes: keyframer.feed(id) })
            : new ScreenTail(initialSize),
      });
      await session.run();
    })().catch((error) => {
      log.error({ err: error }, `terminal session to ${target.name} failed`);
      refuse("the gateway could not open this session");
    });
  };
}
