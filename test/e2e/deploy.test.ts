/** `wrangler deploy` must deploy this code unchanged: keep the dry run green, for both environments and for `npm run deploy`. */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("wrangler deploy --dry-run", () => {
  for (const env of ["", "production"]) {
    it(`bundles the ${env || "default"} environment`, async () => {
      const outdir = await mkdtemp(path.join(os.tmpdir(), "flaremq-dry-"));
      try {
        const args = ["wrangler", "deploy", "--dry-run", "--outdir", outdir, ...(env ? ["--env", env] : [])];
        const { stdout } = await run("npx", args, { env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
        expect(stdout).toContain("--dry-run: exiting now.");
        expect(stdout).toContain(env === "production" ? 'env.AUTO_CREATE_TOPIC_ENABLE ("false")' : 'env.AUTO_CREATE_TOPIC_ENABLE ("true")');
        // Fault injection (unreachable masters, silent brokers) exists only in test configuration.
        expect(stdout).not.toContain("TEST_FAULTS_ENABLED");
        // Neither level lets a deployed Worker serve without accounts.
        expect(stdout).not.toContain("ALLOW_UNAUTHENTICATED_LOCAL");
        expect(stdout).toContain("env.BROKER (BrokerDO)");
        expect(stdout).toContain("env.REPLAY_GUARD (ReplayGuardDO)");
      } finally {
        await rm(outdir, { recursive: true, force: true });
      }
    });
  }
});

describe("npm run deploy", () => {
  it("item 3: deploys the production environment, never the local settings", async () => {
    const outdir = await mkdtemp(path.join(os.tmpdir(), "flaremq-dry-"));
    try {
      const { stdout } = await run("npm", ["run", "deploy", "--", "--dry-run", "--outdir", outdir], {
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      });
      expect(stdout).toContain("--dry-run: exiting now.");
      expect(stdout).toContain('env.AUTO_CREATE_TOPIC_ENABLE ("false")');
      expect(stdout).not.toContain("ALLOW_UNAUTHENTICATED_LOCAL");
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});
