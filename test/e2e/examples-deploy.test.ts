/** The Workers of examples/ deploy as they are: `wrangler deploy --dry-run` in each folder bundles it and binds flaremq's entrypoint. */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { EXAMPLES } from "../worker-examples.js";

const run = promisify(execFile);

describe("examples: wrangler deploy --dry-run", () => {
  for (const [name, folder] of Object.entries(EXAMPLES)) {
    it(`bundles the ${name} Worker with its binding to flaremq's FlareMQ entrypoint`, async () => {
      const outdir = await mkdtemp(path.join(os.tmpdir(), "flaremq-example-dry-"));
      try {
        const { stdout } = await run("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
          cwd: folder,
          env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
        });
        expect(stdout).toContain("--dry-run: exiting now.");
        expect(stdout).toContain("env.MQ (flaremq#FlareMQ)");
      } finally {
        await rm(outdir, { recursive: true, force: true });
      }
    });
  }
});
