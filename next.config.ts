import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Served by server/main.ts; these run in that Node process and must not be bundled.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "ws", "@aws-sdk/client-s3"],
  poweredByHeader: false,
  // `npm run typecheck` checks the whole project (server, tests, app) in the test suite; `npm start` need not repeat it.
  typescript: { ignoreBuildErrors: true },
  experimental: { authInterrupts: true },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
