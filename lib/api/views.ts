// What the API shows of rows: never a secret, never more than the caller's page needs.
import type { TargetRow } from "../data/targets";
import type { UserRow } from "../data/users";
import { effectiveRoles } from "../data/users";

export const targetView = ({ id, name, protocol, host, port, tags }: TargetRow) => ({ id, name, protocol, host, port, tags });

export const adminTargetView = (target: TargetRow) => ({
  ...targetView(target),
  allowedUsers: target.allowedUsers,
  allowedGroups: target.allowedGroups,
  credentialId: target.credentialId,
  hostKeyFingerprint: target.hostKeyFingerprint,
  legacyAlgorithms: target.legacyAlgorithms,
  rdpSecurity: target.rdpSecurity,
  keyboardLayout: target.keyboardLayout,
  remoteApp: target.remoteApp,
  clipboardCopy: target.clipboardCopy,
  clipboardPaste: target.clipboardPaste,
  sessionTtlSeconds: target.sessionTtlSeconds,
  extensionSeconds: target.extensionSeconds,
  maxSessionSeconds: target.maxSessionSeconds,
  retentionDays: target.retentionDays,
  recordSessions: target.recordSessions,
  announceWatchers: target.announceWatchers,
  internalUrl: target.internalUrl,
  webAuthHeader: target.webAuthHeader,
  maskAllInputs: target.maskAllInputs,
  idleTimeoutSeconds: target.idleTimeoutSeconds,
});

export const userView = (user: UserRow) => ({
  id: user.id,
  username: user.username,
  displayName: user.displayName,
  email: user.email,
  source: user.source,
  groups: user.groups,
  idpRoles: user.idpRoles,
  grantedRoles: user.grantedRoles,
  roles: effectiveRoles(user),
  disabled: user.disabled,
  lastLoginAt: user.lastLoginAt,
});
