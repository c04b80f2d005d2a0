/** `npm run bench -- --help` prints the flags instead of failing on an unknown option. */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";
import { ROOT } from "./build.js";

it("npm run bench -- --help prints its flags and exits 0", { timeout: 60_000 }, () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", "run.ts"), "--help"], { cwd: ROOT, encoding: "utf8" });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^usage: npm run bench -- \[flags\]/);
  expect(r.stdout).toContain("--consume-only");
});
