// Auth.js configuration: SSO through any OpenID Connect provider, or — with no OIDC configured — the
// embedded local admin with a password. Sessions are signed, encrypted JWT cookies holding only the account
// id; roles and the disabled flag are read from the database on every check (lib/auth/current-user.ts).
import NextAuth, { CredentialsSignin, type NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { headers } from "next/headers";
import { audit, type Actor } from "../data/audit";
import { runtime } from "../infra/runtime";
import { clientAddress } from "../infra/request-context";
import { findLocalUser, findUserById, recordLogin, upsertSsoUser } from "../data/users";
import { endWebSessionsOfUser } from "../data/web-sessions";
import { createLoginThrottle } from "../data/login-throttle";
import { verifyPassword } from "./password";
import { sessionCookieName } from "./session-cookie";

const sessionLifetimeSeconds = 8 * 60 * 60;
/** Longer than any local account's name. */
const typedUsernameLimit = 256;
let loginThrottle: ReturnType<typeof createLoginThrottle> | null = null;

class RateLimited extends CredentialsSignin {
  code = "rate_limited";
}

class Busy extends CredentialsSignin {
  code = "busy";
}

/**
 * Auth.js gives the signed-in `user` a random id when there is no adapter; the id our providers return (the
 * Gatehouse account id) arrives as the account's providerAccountId, for SSO and password sign-ins alike.
 */
const gatehouseAccountId = (account: { providerAccountId?: string } | null | undefined) => account?.providerAccountId ?? null;

function stringClaim(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/**
 * The email an IdP vouches for, or none: an address a user typed into their profile unverified must not reach
 * targets whose allow list names someone else's address.
 */
function verifiedEmail(claims: Record<string, unknown>): string | null {
  return claims.email_verified === true || claims.email_verified === "true" ? stringClaim(claims.email) : null;
}

function groupsClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  return typeof value === "string" ? value.split(/[\s,]+/).filter(Boolean) : [];
}

/** Route handlers pass the request; server actions (the sign-in form) do not, but run in its scope. */
async function sourceAddress(request: Request | undefined): Promise<string | null> {
  if (request) return clientAddress(request.headers);
  try {
    return clientAddress(await headers());
  } catch {
    return null;
  }
}

export const { handlers, auth, signIn, signOut } = NextAuth(async (request): Promise<NextAuthConfig> => {
  const { config, db } = runtime();
  const sourceIp = await sourceAddress(request);
  const actor = (id: string | null, name: string): Actor => ({ id, name, sourceIp });
  const secure = config.publicUrl.protocol === "https:";

  const providers: NextAuthConfig["providers"] = config.oidc
    ? [
        {
          id: "oidc",
          name: config.oidc.displayName,
          type: "oidc",
          issuer: config.oidc.issuer,
          clientId: config.oidc.clientId,
          clientSecret: config.oidc.clientSecret,
          checks: ["pkce", "state", "nonce"],
          authorization: { params: { scope: config.oidc.scopes } },
          async profile(claims) {
            const oidc = config.oidc!;
            const email = verifiedEmail(claims);
            const account = await upsertSsoUser(db, {
              issuer: oidc.issuer,
              subject: String(claims.sub),
              username: stringClaim(claims.preferred_username) ?? email ?? String(claims.sub),
              email,
              displayName: stringClaim(claims.name),
              groups: groupsClaim(claims[oidc.groupsClaim]),
            });
            return { id: account.id, name: account.displayName ?? account.username, email: account.email };
          },
        },
      ]
    : [
        Credentials({
          id: "local",
          name: "Local account",
          credentials: { username: { label: "Username" }, password: { label: "Password", type: "password" } },
          async authorize(input) {
            const typed = typeof input.username === "string" ? input.username.trim() : "";
            // What is counted, looked up and audited is bounded: a longer name is no account's, only a wrong guess.
            const username = typed.slice(0, typedUsernameLimit);
            const password = typeof input.password === "string" ? input.password : "";
            const address = sourceIp ?? "unknown";
            loginThrottle ??= createLoginThrottle(db);
            const admission = await loginThrottle.admit(address, username);
            if (!admission.ok) {
              await audit(db, actor(null, username || "(empty)"), { action: "login", outcome: "refused", details: { method: "password", reason: admission.reason === "busy" ? "too many sign-ins being checked at once" : "rate limited" } });
              throw admission.reason === "busy" ? new Busy() : new RateLimited();
            }
            let valid = false;
            let user: Awaited<ReturnType<typeof findLocalUser>>;
            try {
              user = username && typed.length <= typedUsernameLimit ? await findLocalUser(db, username) : undefined;
              valid = Boolean(user?.passwordHash && !user.disabled && (await verifyPassword(password, user.passwordHash)));
            } finally {
              await admission.finish(valid);
            }
            if (!user || !valid) {
              await audit(db, actor(user?.id ?? null, username || "(empty)"), { action: "login", outcome: "failure", details: { method: "password" } });
              return null;
            }
            await recordLogin(db, user.id);
            return { id: user.id, name: user.displayName ?? user.username };
          },
        }),
      ];

  return {
    secret: config.authSecret,
    trustHost: true,
    useSecureCookies: secure,
    cookies: { sessionToken: { name: sessionCookieName(config.publicUrl) } },
    session: { strategy: "jwt", maxAge: sessionLifetimeSeconds },
    pages: { signIn: "/signin", error: "/signin" },
    providers,
    callbacks: {
      async signIn({ user, account }) {
        const accountId = gatehouseAccountId(account);
        const stored = accountId ? await findUserById(db, accountId) : undefined;
        if (!stored || stored.disabled) {
          await audit(db, actor(stored?.id ?? null, stored?.username ?? user.name ?? "unknown"), {
            action: "login",
            outcome: "refused",
            details: { method: account?.provider, reason: stored ? "account disabled" : "unknown account" },
          });
          return false;
        }
        return true;
      },
      jwt({ token, account }) {
        const accountId = gatehouseAccountId(account);
        if (accountId) token.uid = accountId;
        return token;
      },
      session({ session, token }) {
        if (typeof token.uid === "string") session.user.id = token.uid;
        return session;
      },
    },
    events: {
      async signIn({ user, account }) {
        const accountId = gatehouseAccountId(account);
        const stored = accountId ? await findUserById(db, accountId) : undefined;
        await audit(db, actor(accountId, stored?.username ?? user.name ?? "unknown"), { action: "login", details: { method: account?.provider } });
      },
      async signOut(message) {
        const token = "token" in message ? message.token : null;
        const userId = typeof token?.uid === "string" ? token.uid : null;
        const user = userId ? await findUserById(db, userId) : undefined;
        await audit(db, actor(userId, user?.username ?? "unknown"), { action: "logout" });
        if (userId) await endWebSessionsOfUser(db, userId);
      },
    },
  };
});
