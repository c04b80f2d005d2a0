/**
 * CPU time of the workerd process that runs a local server (the Worker and every object in one
 * isolate), read from /proc (Linux), for the capacity model's CPU per message and to show when
 * the machine saturates. The server's process is found as the workerd child of this process that
 * appeared while it started. Elsewhere than Linux every reading is null.
 */
import { readFileSync, readdirSync } from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on Linux

function stat(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    return raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** The workerd processes this process started. */
export function workerdChildren(): number[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  return pids.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd" && stat(pid)?.[1] === String(process.pid);
    } catch {
      return false;
    }
  });
}

/** CPU time (user + system) the process used so far, in ms; null when unknown. */
export function processCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  const f = stat(pid);
  // After the command name: state(0) ppid(1) ... utime(11) stime(12).
  return f ? (Number(f[11]) + Number(f[12])) * TICK_MS : null;
}

/** Runs `start` and returns what it returns with the pid of the one workerd child that appeared meanwhile (null if not exactly one). */
export async function withProcess<T>(start: () => Promise<T>): Promise<{ value: T; pid: number | null }> {
  const before = new Set(workerdChildren());
  const value = await start();
  const fresh = workerdChildren().filter((p) => !before.has(p));
  return { value, pid: fresh.length === 1 ? fresh[0]! : null };
}
