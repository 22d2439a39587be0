import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { signOut } from "@/lib/auth/auth";
import { currentUser, hasRole } from "@/lib/auth/current-user";
import { pendingAudits } from "@/lib/data/governance/audits";
import { pendingForApprover } from "@/lib/data/governance/requests";
import { runtime } from "@/lib/infra/runtime";
import "./globals.css";

export const metadata: Metadata = { title: "Gatehouse", description: "Zero-trust access to SSH, desktops and web apps", icons: { icon: "/icon.svg" }, robots: { index: false, follow: false } };

async function signOutAction() {
  "use server";
  await signOut({ redirectTo: "/signin" });
}

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  const [waiting, toAudit] = user ? await Promise.all([pendingForApprover(runtime().db, user), pendingAudits(runtime().db, user)]) : [0, 0];
  const adminLinks = [
    { href: "/admin/targets", label: "Targets" },
    { href: "/admin/policies", label: "Policies" },
    { href: "/admin/command-rules", label: "Command policy" },
    { href: "/admin/credentials", label: "Credentials" },
    { href: "/admin/users", label: "Users" },
    { href: "/admin/settings", label: "Settings" },
  ];
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">
        <header className="border-b border-slate-200 bg-white">
          <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-5 gap-y-2 px-4 py-3 text-sm">
            <Link href="/" className="shrink-0">
              <img src="/logo.svg" alt="Gatehouse" width={112} height={24} />
            </Link>
            {user ? <Link href="/">My targets</Link> : null}
            {user ? <Link href="/requests">Requests</Link> : null}
            {user ? (
              <Link href="/approvals">
                Approvals
                {waiting > 0 ? (
                  <span className="ml-1 rounded-full bg-amber-500 px-1.5 text-xs font-semibold text-white" aria-label={`${waiting} waiting`} data-testid="approvals-badge">
                    {waiting}
                  </span>
                ) : null}
              </Link>
            ) : null}
            {toAudit > 0 ? (
              <Link href="/audits">
                Audits
                <span className="ml-1 rounded-full bg-amber-500 px-1.5 text-xs font-semibold text-white" aria-label={`${toAudit} to audit`} data-testid="audits-badge">
                  {toAudit}
                </span>
              </Link>
            ) : null}
            {user ? <Link href="/recordings">Sessions</Link> : null}
            {user && hasRole(user, ["security", "admin"]) ? <Link href="/live">Live</Link> : null}
            {user && hasRole(user, "admin") ? adminLinks.map((link) => <Link key={link.href} href={link.href}>{link.label}</Link>) : null}
            {user && (hasRole(user, "admin") || hasRole(user, "security")) ? <Link href="/admin/audit">Audit log</Link> : null}
            {user && (hasRole(user, "admin") || hasRole(user, "security")) ? <Link href="/admin/nodes">Nodes</Link> : null}
            {user ? <Link href="/tokens">API tokens</Link> : null}
            {user ? (
              <form action={signOutAction} className="ml-auto flex flex-wrap items-center gap-3">
                <span className="text-slate-600" data-testid="signed-in-as">
                  {user.displayName} · {user.roles.join(", ")}
                </span>
                <button type="submit" className="rounded-md border border-slate-300 px-2.5 py-1 hover:bg-slate-50">
                  Sign out
                </button>
              </form>
            ) : null}
          </nav>
        </header>
        <main className="mx-auto max-w-6xl px-4 py-8">{children}</main>
      </body>
    </html>
  );
}
