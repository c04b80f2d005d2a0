/** The state folder's lock: one live holder at a time; a holder that died leaves it free. */
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireStateLock, LOCK_FILE, StateLockedError } from "./state-lock.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function folder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flaremq-lock-"));
  dirs.push(dir);
  return dir;
}

describe("acquireStateLock", () => {
  it("writes this process's pid, and the release removes it", async () => {
    const dir = await folder();
    const release = acquireStateLock(dir);
    expect(await readFile(path.join(dir, LOCK_FILE), "utf8")).toBe(String(process.pid));
    release();
    await expect(readFile(path.join(dir, LOCK_FILE), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("refuses while another live process holds it, naming that process", async () => {
    const dir = await folder();
    await writeFile(path.join(dir, LOCK_FILE), String(process.ppid)); // the test runner's parent: alive
    const e = (() => {
      try {
        acquireStateLock(dir);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(StateLockedError);
    expect((e as Error).message).toContain(`pid ${process.ppid}`);
  });

  it("takes over a lock whose process is gone", async () => {
    const dir = await folder();
    const gone = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid;
    await writeFile(path.join(dir, LOCK_FILE), String(gone));
    const release = acquireStateLock(dir);
    expect(await readFile(path.join(dir, LOCK_FILE), "utf8")).toBe(String(process.pid));
    release();
  });
});
