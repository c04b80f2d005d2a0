import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Three projects: pure logic in Node, Durable Objects inside workerd (with test/workerd/: the
 * real client classes driving the Worker inside workerd), and end-to-end tests
 * that start the real server (workerd via Miniflare) and drive it with the real client.
 * Every project builds the dashboard's generated module first (the Worker's app imports it).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "protocol/**/*.test.ts",
            "client/**/*.test.ts",
            "dashboard/**/*.test.ts",
            "workers/**/*.unit.test.ts",
            "cluster/**/*.unit.test.ts",
            "scripts/**/*.test.ts",
          ],
          environment: "node",
          globalSetup: ["test/build-dashboard.ts"],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Retention off: these tests pin exact alarm times and store rows with old timestamps;
            // retention has its own end-to-end test.
            // No slaves: these tests pin alarm times that replication would add to.
            // Unauthenticated local access: test/workerd/ drives the Worker (SELF) with the real
            // client classes, as loopback clients of a server without accounts.
            // A consumer Worker (test/workerd/push-consumer-worker.js) behind the service binding
            // PUSH_TEST_CONSUMER, which push subscriptions may target (PUSH_SERVICE_BINDINGS).
            miniflare: {
              bindings: { FILE_RESERVED_TIME_MS: "0", BROKER_SLAVES: "0", ALLOW_UNAUTHENTICATED_LOCAL: "true", PUSH_SERVICE_BINDINGS: "PUSH_TEST_CONSUMER" },
              serviceBindings: { PUSH_TEST_CONSUMER: "push-test-consumer" },
              workers: [
                {
                  name: "push-test-consumer",
                  modules: true,
                  scriptPath: "./test/workerd/push-consumer-worker.js",
                  compatibilityDate: "2026-04-01",
                },
              ],
            },
          }),
        ],
        test: {
          name: "workerd",
          include: ["durable-objects/**/*.test.ts", "test/workerd/**/*.test.ts"],
          globalSetup: ["test/build-dashboard.ts"],
          exclude: ["durable-objects/**/*.ha.test.ts"],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // One slave per broker and short broker timers under the test configuration.
            miniflare: {
              bindings: {
                FILE_RESERVED_TIME_MS: "0",
                BROKER_SLAVES: "1",
                TEST_FAULTS_ENABLED: "true",
                BROKER_HEARTBEAT_INTERVAL_MS: "60000",
                BROKER_EXPIRY_MS: "1000",
              },
            },
          }),
        ],
        test: {
          name: "workerd-ha",
          include: ["durable-objects/**/*.ha.test.ts"],
          globalSetup: ["test/build-dashboard.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          exclude: ["test/workerd/**"],
          environment: "node",
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
