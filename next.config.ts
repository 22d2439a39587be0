import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Served by server/main.ts; these run in that Node process and must not be bundled.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "ws", "@aws-sdk/client-s3", "@azure/storage-blob", "pg-boss", "pino"],
  poweredByHeader: false,
  // `npm run typecheck` checks the whole project (server, tests, app) in the test suite; `npm start` need not repeat it.
  typescript: { ignoreBuildErrors: true },
  experimental: { authInterrupts: true },
  // Security headers (a nonce-based Content-Security-Policy among them) are set by server/main.ts on every response.
};

export default nextConfig;
