// The `desktop` purpose: an RDP or VNC desktop through the Guacamole engine, with the credential from the vault.
import { audit } from "../lib/data/audit";
import type { Config } from "../lib/infra/config";
import { openCredential } from "../lib/data/credentials";
import { defaultDesktopSize, desktopSizeSchema } from "../lib/protocol/desktop";
import type { Runtime } from "../lib/infra/runtime";
import { pinHostKey } from "../lib/data/targets";
import { refuseSession, type SocketRoute } from "./gate";
import { WindowTitleWatch } from "./inspector/window-titles";
import { DesktopStream } from "./protocols/guac/desktop-stream";
import { builtInEnginePath, type EngineLocation } from "./protocols/guac/engine-link";
import { GuacAdapter } from "./protocols/guac/guac-adapter";
import { DesktopRecorder } from "./recorder/desktop-recorder";
import { Session } from "./session";
import { log } from "../lib/infra/log";

export const engineLocation = (config: Config): EngineLocation => (config.guacd ? { kind: "guacd", ...config.guacd } : { kind: "built-in", path: builtInEnginePath });

export function createDesktopRoute(runtime: Runtime): SocketRoute {
  const { db, vault, config, blobStore } = runtime;
  return (socket, pass) => {
    const { user, target, actor, url, access } = pass;
    const recorded = target.recordSessions || Boolean(access?.recordingRequired);
    const refuse = (message: string) => refuseSession(socket, message);
    const protocol = target.protocol;
    if (protocol !== "rdp" && protocol !== "vnc") return refuse(`${target.name} is a ${protocol.toUpperCase()} target, not a desktop`);
    if (!target.credentialId) return refuse(`${target.name} has no credential to log in with; ask an admin to set one`);
    const requested = desktopSizeSchema.safeParse({ width: Number(url.searchParams.get("width")), height: Number(url.searchParams.get("height")), dpi: Number(url.searchParams.get("dpi")) });

    void (async () => {
      const login = await openCredential(db, vault, target.credentialId!);
      if (!login) return refuse(`${target.name} has no credential to log in with; ask an admin to set one`);
      if (login.kind !== "password") return refuse(`${target.name} needs a password credential: ${protocol.toUpperCase()} does not log in with a private key`);
      const adapter = new GuacAdapter({ ...target, protocol }, login, {
        engine: engineLocation(config),
        connectTimeoutMs: config.targetConnectTimeoutMs,
        size: requested.success ? requested.data : defaultDesktopSize,
        async onFirstCertificate(fingerprint) {
          await pinHostKey(db, target.id, fingerprint);
          await audit(db, actor, { action: "target.certificate_pinned", objectType: "target", objectId: target.id, details: { target: target.name, fingerprint } });
        },
      });
      const rules = runtime.ruleBook.forSession({ person: user, target, protocol, policyNames: access?.policies ?? [] });
      // The stream and the window titles report matches to the session they belong to, made just below.
      const matched: { to: Session | null } = { to: null };
      const windowTitles = new WindowTitleWatch(
        () => rules.of("window_title"),
        (match) => void matched.to?.policyMatched(match),
      );
      adapter.on("title", (windowId, title) => windowTitles.title(windowId, title));
      // Every end of the session closes the user's socket.
      socket.once("close", () => windowTitles.stop());
      const session = new Session({ db, nodeName: config.nodeName, socket, ...pass }, {
        adapter,
        stream: new DesktopStream({
          pasteAllowed: target.clipboardPaste,
          clipboardRules: () => rules.of("clipboard").rules,
          matched: (match) => void matched.to?.policyMatched(match),
        }),
        startRecorder: ({ id, startedAt }) => new DesktopRecorder({ db, blobStore, sessionId: id, startedAt, store: recorded, requestKeyframe: () => adapter.requestKeyframe() }),
      });
      matched.to = session;
      await session.run();
    })().catch((error) => {
      log.error({ err: error }, `desktop session to ${target.name} failed`);
      refuse("the gateway could not open this session");
    });
  };
}
