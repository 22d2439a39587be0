import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "@": path.resolve(import.meta.dirname) };

export default defineConfig({
  test: {
    projects: [
      { resolve: { alias }, test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      {
        resolve: { alias },
        // Fuzzing the wire schemas and the desktop engine (built with sanitizers); the attacks on a running gateway are in e2e/security.
        test: { name: "security", include: ["test/security/**/*.test.ts"], environment: "node", setupFiles: ["test/fixtures/evidence-keys.ts"], testTimeout: 300_000, hookTimeout: 180_000 },
      },
      {
        resolve: { alias },
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          setupFiles: ["test/fixtures/evidence-keys.ts"],
          globalSetup: ["test/fixtures/postgres-database.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
