import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**"],
    // Docker-heavy suites share one 2-core engine; a small pool keeps them from starving each
    // other into their hang guards.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["testing/global-setup.ts"],
  },
});
