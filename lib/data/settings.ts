// Gateway-wide settings an admin changes at run time; every change is audited.
import { audit, type Actor } from "./audit";
import type { Database } from "./client";
import { gatewaySettings } from "./schema";
import type { GatewaySettingsInput } from "../protocol/admin";
import { lockedMessage } from "../protocol/live";

/** The built-in wording of the texts admins may change. */
export const defaultTexts = { lockMessage: lockedMessage, recordingNotice: "This session is recorded" };

/** What someone whose session security ended is told: the admin's wording or who ended it, then why. */
export function terminationNotice(custom: string | null, actorName: string, reason: string) {
  return `${custom ?? `terminated by ${actorName} from security`}: ${reason}`;
}

export async function readSettings(db: Database) {
  const [row] = await db.select().from(gatewaySettings);
  return {
    showRecordingIndicator: row?.showRecordingIndicator ?? true,
    revealSeconds: row?.revealSeconds ?? 20,
    lockMessage: row?.lockMessage ?? null,
    terminationMessage: row?.terminationMessage ?? null,
    recordingNotice: row?.recordingNotice ?? null,
    logonNotice: row?.logonNotice ?? null,
  };
}

/** The texts as people see them: an admin's wording, else the built-in one. */
export async function sessionTexts(db: Database) {
  const settings = await readSettings(db);
  return {
    lockMessage: settings.lockMessage ?? defaultTexts.lockMessage,
    terminationMessage: settings.terminationMessage,
    /** Null when the indicator is off. */
    recordingNotice: settings.showRecordingIndicator ? (settings.recordingNotice ?? defaultTexts.recordingNotice) : null,
    logonNotice: settings.logonNotice,
    revealSeconds: settings.revealSeconds,
  };
}

export async function updateSettings(db: Database, actor: Actor, input: GatewaySettingsInput) {
  await db
    .insert(gatewaySettings)
    .values({ id: 1, ...input, updatedAt: new Date() })
    .onConflictDoUpdate({ target: gatewaySettings.id, set: { ...input, updatedAt: new Date() } });
  await audit(db, actor, { action: "settings.update", objectType: "settings", details: { ...input } });
  return readSettings(db);
}
