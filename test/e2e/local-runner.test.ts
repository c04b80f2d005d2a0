/**
 * `npm start` as a user runs it, in a process of its own: the commands it prints work as printed
 * on any port, and a second server on the same state folder refuses to start while the first
 * runs (after a kill -9 the folder is free again).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/build.js";
import { startProcessServer, type ProcessServer } from "../process-server.js";

const run = promisify(execFile);
const running: ProcessServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.kill9().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flaremq-runner-"));
  dirs.push(dir);
  return dir;
}

describe("npm start", () => {
  it("prints try commands that work as printed on a port other than 8787", { timeout: 120_000 }, async () => {
    const server = await startProcessServer(await stateDir());
    running.push(server);
    const commands = server
      .printed()
      .split("\n")
      .map((line) => /npm run cli -- .*$/.exec(line)?.[0])
      .filter((c): c is string => c !== undefined);
    expect(commands).toHaveLength(2);
    for (const command of commands) {
      expect(command).toContain(`--endpoint ${server.url}`);
      // `npm run cli --` is `tsx cli/main.ts`; the printed words are passed as they are.
      const args = command.replace("npm run cli -- ", "").split(" ");
      const { FLAREMQ_ENDPOINT: _ignored, ...env } = process.env;
      const { stdout } = await run(process.execPath, ["--import", "tsx", path.join(ROOT, "cli", "main.ts"), ...args], {
        cwd: ROOT,
        env: { ...env, HOME: server.home },
      });
      expect(stdout.length).toBeGreaterThan(0);
    }
  });

  it("refuses a second server on a state folder in use, and starts once the first was killed", { timeout: 180_000 }, async () => {
    const dir = await stateDir();
    const first = await startProcessServer(dir);
    running.push(first);
    const second = await startProcessServer(dir).then(
      (s) => (running.push(s), "started"),
      (e: unknown) => String(e),
    );
    expect(second).toMatch(/exited with 1 before serving/);
    expect(second).toContain(`the state folder ${dir} is in use by another flaremq server`);
    await first.kill9();
    running.splice(running.indexOf(first), 1);
    const third = await startProcessServer(dir);
    running.push(third);
    expect((await fetch(`${third.url}/healthz`)).ok).toBe(true);
  });
});
