/**
 * `npm run measure:start [-- --runs 5] [--cwd <checkout>]`: how long `npm start` takes from the
 * command to its first successful GET /healthz, as a user would time it. Each run starts
 * `npm start` on a free port with its own state folder and HOME, polls /healthz every 20 ms,
 * then stops the whole process group. The first run may rebuild what a source change made
 * stale; the rest are warm starts. --cwd measures another checkout (e.g. an older commit's) on
 * the same machine and moment, since load from other processes moves these numbers a lot.
 * On Linux it also reports the CPU time the start used (all its processes: npm, Node, workerd,
 * esbuild), which other load does not move much: on an idle machine with two cores the wall
 * time is about that or less.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./build.js";

const POLL_MS = 20;
const GIVE_UP_MS = 120_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * CPU milliseconds used so far by the processes of process group `pgid` (and their waited-for
 * children), from /proc; undefined where there is no /proc.
 */
async function groupCpuMs(pgid: number): Promise<number | undefined> {
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const TICKS_PER_S = 100; // USER_HZ on Linux
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // Fields after the command (in parentheses, which may hold spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
    // Fields 14-17: utime, stime, cutime, cstime.
    ticks += [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  }
  return (ticks / TICKS_PER_S) * 1000;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Milliseconds from spawning `npm start` in `cwd` to its first 200 on /healthz, and the CPU it used. */
async function measureOnce(cwd: string): Promise<{ wallMs: number; cpuMs: number | undefined }> {
  const port = await freePort();
  const scratch = await mkdtemp(path.join(os.tmpdir(), "flaremq-measure-"));
  const started = performance.now();
  const child = spawn("npm", ["start", "--", "--port", String(port), "--state-dir", path.join(scratch, "state")], {
    cwd,
    env: { ...process.env, HOME: scratch },
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${stderr}`);
      if (await healthy(`http://127.0.0.1:${port}/healthz`)) {
        const wallMs = performance.now() - started;
        return { wallMs, cpuMs: await groupCpuMs(child.pid!) };
      }
      if (performance.now() - started > GIVE_UP_MS) throw new Error(`not serving after ${GIVE_UP_MS} ms:\n${stderr}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, "SIGTERM");
    await exited;
    await rm(scratch, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" }, cwd: { type: "string" } } });
const runs = Number(values.runs);
const cwd = path.resolve(values.cwd ?? ROOT);
const times: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < runs; i++) {
  const { wallMs, cpuMs } = await measureOnce(cwd);
  times.push(wallMs);
  if (cpuMs !== undefined) cpu.push(cpuMs);
  console.log(`run ${i + 1}: ${Math.round(wallMs)} ms${cpuMs === undefined ? "" : ` (CPU ${Math.round(cpuMs)} ms)`}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(
  `npm start to first /healthz in ${cwd}: median ${Math.round(median(times))} ms, best ${Math.round(Math.min(...times))} ms` +
    (cpu.length ? `, CPU median ${Math.round(median(cpu))} ms` : "") +
    ` over ${runs} runs (load average ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} cores)`,
);
