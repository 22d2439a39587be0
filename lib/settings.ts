// Gateway-wide settings an admin changes at run time; every change is audited.
import { audit, type Actor } from "./audit";
import type { Database } from "./db/client";
import { gatewaySettings } from "./db/schema";
import type { GatewaySettingsInput } from "./protocol/admin";

export async function readSettings(db: Database) {
  const [row] = await db.select().from(gatewaySettings);
  return { showRecordingIndicator: row?.showRecordingIndicator ?? true };
}

export async function updateSettings(db: Database, actor: Actor, input: GatewaySettingsInput) {
  await db
    .insert(gatewaySettings)
    .values({ id: 1, ...input, updatedAt: new Date() })
    .onConflictDoUpdate({ target: gatewaySettings.id, set: { ...input, updatedAt: new Date() } });
  await audit(db, actor, { action: "settings.update", objectType: "settings", details: { ...input } });
  return readSettings(db);
}
