// Domain vocabularies shared by the browser, the API and the database schema.
import { z } from "zod";

/** admin manages targets and users; security watches and controls sessions; reviewer reads recordings; user connects. */
export const roleNames = ["admin", "security", "reviewer", "user"] as const;
export type Role = (typeof roleNames)[number];

export const protocolSchema = z.enum(["ssh", "rdp", "vnc", "web"]);
export type Protocol = z.infer<typeof protocolSchema>;

export const defaultPorts: Record<Protocol, number> = { ssh: 22, rdp: 3389, vnc: 5900, web: 443 };

export const credentialKindSchema = z.enum(["password", "private_key"]);
export type CredentialKind = z.infer<typeof credentialKindSchema>;

/** The gateway's WebSocket routes (`/ws/<purpose>`); each serves exactly one purpose. */
export const socketPurposeSchema = z.enum(["probe", "terminal", "watch"]);
export type SocketPurpose = z.infer<typeof socketPurposeSchema>;

/** What a connect ticket may be used for: a WebSocket route, or handing a web session to the app's host (`app`). */
export type ConnectPurpose = SocketPurpose | "app";
