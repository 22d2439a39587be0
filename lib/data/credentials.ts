// Target credentials: written by admins, never read back by them. The API and pages see name, kind and
// username only; the secret is decrypted in server memory when a connection needs it, and shown to a person only
// by a password checkout that a policy allows during an approved request (lib/data/governance/checkout.ts).
import { randomUUID } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { notFound } from "../domain/errors";
import { audit, type Actor } from "./audit";
import type { Database } from "./client";
import { credentials } from "./schema";
import { isUuid } from "../domain/ids";
import type { CredentialInput } from "../protocol/admin";
import type { Vault } from "../infra/vault";

const publicColumns = {
  id: credentials.id,
  name: credentials.name,
  kind: credentials.kind,
  username: credentials.username,
  rotationDueAt: credentials.rotationDueAt,
  rotationDueReason: credentials.rotationDueReason,
  createdAt: credentials.createdAt,
  updatedAt: credentials.updatedAt,
};

export type CredentialSummary = {
  id: string;
  name: string;
  kind: CredentialInput["kind"];
  username: string;
  /** A person was shown the password; a new secret clears it. */
  rotationDueAt: Date | null;
  rotationDueReason: string | null;
  createdAt: Date;
  updatedAt: Date;
};

export async function listCredentials(db: Database): Promise<CredentialSummary[]> {
  return db.select(publicColumns).from(credentials).orderBy(asc(credentials.name));
}

export async function createCredential(db: Database, vault: Vault, actor: Actor, input: CredentialInput): Promise<CredentialSummary> {
  const id = randomUUID();
  const { secret, ...visible } = input;
  const [created] = await db
    .insert(credentials)
    .values({ id, ...visible, secretCiphertext: vault.seal(id, secret) })
    .returning(publicColumns);
  await audit(db, actor, { action: "credential.create", objectType: "credential", objectId: id, details: visible });
  return created!;
}

export async function updateCredential(db: Database, vault: Vault, actor: Actor, id: string, input: Partial<CredentialInput>): Promise<CredentialSummary> {
  if (!isUuid(id)) throw notFound("Credential");
  const { secret, ...visible } = input;
  const [updated] = await db
    .update(credentials)
    .set({ ...visible, ...(secret ? { secretCiphertext: vault.seal(id, secret), rotationDueAt: null, rotationDueReason: null } : {}), updatedAt: new Date() })
    .where(eq(credentials.id, id))
    .returning(publicColumns);
  if (!updated) throw notFound("Credential");
  await audit(db, actor, { action: "credential.update", objectType: "credential", objectId: id, details: { ...visible, secretReplaced: Boolean(secret) } });
  return updated;
}

export async function deleteCredential(db: Database, actor: Actor, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound("Credential");
  const [deleted] = await db.delete(credentials).where(eq(credentials.id, id)).returning({ name: credentials.name });
  if (!deleted) throw notFound("Credential");
  await audit(db, actor, { action: "credential.delete", objectType: "credential", objectId: id, details: { name: deleted.name } });
}

/** Server memory only: for the protocol adapter that is about to log in to the target. */
export async function openCredential(db: Database, vault: Vault, id: string) {
  const [row] = await db.select().from(credentials).where(eq(credentials.id, id));
  if (!row) return undefined;
  return { kind: row.kind, username: row.username, secret: vault.open(row.id, row.secretCiphertext) };
}
