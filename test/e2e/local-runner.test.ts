/**
 * `npm start` as a user runs it, in a process of its own: the commands it prints work as printed
 * on any port, and a second server on the same state folder refuses to start while the first
 * runs (after a kill -9 the folder is free again). A warm start takes the fast path (no
 * rebuild, no wrangler), `--log requests` prints a line per request, and a port in use is one
 * clear line and exit code 1.
 */
import { execFile, spawn } from "node:child_process";
import net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/build.js";
import { startProcessServer, type ProcessServer } from "../process-server.js";
import { isCurrent } from "../../scripts/build-stamp.js";

/**
 * A Node loader hook that fails any import of wrangler: `npm start` reads wrangler.toml itself
 * (scripts/wrangler-config.ts), since importing wrangler cost seconds of every start.
 */
const FORBID_WRANGLER = `data:text/javascript,${encodeURIComponent(
  `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent("export async function resolve(s, c, next) { if (s === 'wrangler' || s.startsWith('wrangler/')) throw new Error('npm start imported ' + s); return next(s, c); }"));`,
)}`;

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

describe("npm start's fast path and output", () => {
  it("a warm start reuses the Worker bundle and its own compiled entry, and never imports wrangler", { timeout: 120_000 }, async () => {
    // The e2e setup (test/global-setup.ts) built the bundle and stamped its inputs.
    const server = await startProcessServer(await stateDir(), { nodeArgs: ["--import", FORBID_WRANGLER] });
    running.push(server);
    expect(server.printed()).toMatch(/serving on http:\/\/127\.0\.0\.1:\d+ \(ready in \d+\.\d\d s, Worker bundle reused\)/);
    // The next start runs dist/start.mjs as it is: its stamp says every input is unchanged.
    expect(isCurrent(path.join(ROOT, "dist", "start.mjs.inputs.json"), [path.join(ROOT, "dist", "start.mjs")])).toBe(true);
    expect((await fetch(`${server.url}/healthz`)).ok).toBe(true);
  });

  it("--log requests prints one line per request: method, path, status, ms and request id", { timeout: 120_000 }, async () => {
    const server = await startProcessServer(await stateDir(), { args: ["--log", "requests"] });
    running.push(server);
    expect((await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "log-test-1" } })).status).toBe(200);
    expect((await fetch(`${server.url}/namesrv/topics`, { headers: { "x-request-id": "log-test-2" } })).status).toBe(401);
    await waitFor(() => server.printed().includes("req=log-test-2"));
    const lines = server
      .printed()
      .split("\n")
      .filter((l) => l.includes("req=log-test-"));
    expect(lines.map((l) => l.replace(/ \d+ms /, " <n>ms "))).toEqual([
      "GET /healthz 200 <n>ms req=log-test-1",
      "GET /namesrv/topics 401 <n>ms req=log-test-2",
    ]);
  });

  it("a port in use is one line on stderr and exit code 1, without workerd's stack dump", { timeout: 120_000 }, async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const home = await stateDir();
      const child = spawn(
        process.execPath,
        [
          path.join(ROOT, "scripts", "run-compiled.js"),
          path.join(ROOT, "scripts", "start.ts"),
          "--port",
          String(port),
          "--state-dir",
          path.join(home, "state"),
        ],
        {
          cwd: ROOT,
          env: { ...process.env, HOME: home },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect({ code, stdout, stderr }).toEqual({
        code: 1,
        stdout: "",
        stderr: `127.0.0.1:${port} is already in use (another flaremq, or another server); stop it or choose another port with --port <n> (0 picks a free one)\n`,
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

/** Polls `check` every 20 ms for up to 10 s (the server prints asynchronously to the response). */
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the server's output");
    await new Promise((r) => setTimeout(r, 20));
  }
}
