/**
 * The server as `npm start` runs it, in a process group of its own, so a test can kill -9 it
 * (Node and its workerd together, with no chance to shut down) and start it again on the same
 * storage. The fixture's servers stop through Miniflare's dispose instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../scripts/build.js";
import { devCredentials } from "../scripts/dev-credentials.js";
import type { Credentials } from "../client/credentials.js";

export interface ProcessServer {
  url: string;
  credentials: Credentials;
  stateDir: string;
  /** The HOME it runs with (where it wrote the dev key for the CLI). */
  home: string;
  /** What it printed on stdout so far. */
  printed(): string;
  /** SIGKILL to the whole process group; resolves once the server process is gone. */
  kill9(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

export interface ProcessServerOptions {
  /** More flags of `npm start`, e.g. ["--log", "requests"]. */
  args?: string[];
  /** Flags for Node itself, before the script. */
  nodeArgs?: string[];
}

export async function startProcessServer(stateDir: string, options: ProcessServerOptions = {}): Promise<ProcessServer> {
  // Its own HOME: `npm start` writes the dev key there for the CLI.
  const home = await mkdtemp(path.join(os.tmpdir(), "flaremq-home-"));
  // What `npm start` runs (package.json), without npm in between.
  const script = [path.join(ROOT, "scripts", "run-compiled.js"), path.join(ROOT, "scripts", "start.ts")];
  const args = [...(options.nodeArgs ?? []), ...script, "--port", "0", "--state-dir", stateDir, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, HOME: home },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const url = await serving(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    credentials: await devCredentials(stateDir),
    stateDir,
    home,
    printed: () => stdout,
    kill9: async () => {
      process.kill(-child.pid!, "SIGKILL");
      await exited;
    },
  };
}

/** The URL the server prints once it serves; fails with what it printed if it exits first. */
function serving(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let printed = "";
    const timer = setTimeout(() => fail(new Error(`no "serving on" line within ${START_TIMEOUT_MS} ms:\n${printed}`)), START_TIMEOUT_MS);
    const fail = (e: Error) => {
      clearTimeout(timer);
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      reject(e);
    };
    const read = (chunk: Buffer) => {
      printed += chunk.toString();
      const m = /serving on (http:\/\/\S+)/.exec(printed);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    child.once("exit", (code) => fail(new Error(`the server exited with ${code} before serving:\n${printed}`)));
  });
}
