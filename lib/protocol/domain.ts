// Domain vocabularies shared by the browser, the API and the database schema.
import { z } from "zod";

/** admin manages targets and users; security watches and controls sessions; reviewer reads recordings; user connects. */
export const roleNames = ["admin", "security", "reviewer", "user"] as const;
export type Role = (typeof roleNames)[number];

export const protocolSchema = z.enum(["ssh", "rdp", "vnc", "web"]);
export type Protocol = z.infer<typeof protocolSchema>;

/** RDP security negotiation: `any` takes what the server offers (NLA, then TLS, then RDP's own). */
export const rdpSecuritySchema = z.enum(["any", "nla", "tls", "rdp"]);
export type RdpSecurity = z.infer<typeof rdpSecuritySchema>;

/** Keyboard layouts an RDP server may expect (guacd's names): keys are sent as that layout's scancodes. */
export const keyboardLayouts = { "en-us-qwerty": "English (US)", "en-gb-qwerty": "English (UK)", "de-de-qwertz": "German", "fr-fr-azerty": "French" } as const;
export const keyboardLayoutSchema = z.enum(Object.keys(keyboardLayouts) as [keyof typeof keyboardLayouts, ...(keyof typeof keyboardLayouts)[]]);

export const defaultPorts: Record<Protocol, number> = { ssh: 22, rdp: 3389, vnc: 5900, web: 443 };

export const credentialKindSchema = z.enum(["password", "private_key"]);
export type CredentialKind = z.infer<typeof credentialKindSchema>;

/** The gateway's WebSocket routes (`/ws/<purpose>`); each serves exactly one purpose. */
export const socketPurposeSchema = z.enum(["probe", "terminal", "desktop", "watch"]);
export type SocketPurpose = z.infer<typeof socketPurposeSchema>;

/** What a connect ticket may be used for: a WebSocket route, or handing a web session to the app's host (`app`). */
export type ConnectPurpose = SocketPurpose | "app";
