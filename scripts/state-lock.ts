/**
 * One `npm start` per state folder, as RocketMQ's broker holds a lock file on its store: two
 * servers on one folder would both open the same SQLite files and fail later with SQLITE_BUSY
 * and views that disagree. The lock is a file naming the holder's pid; a lock whose process is
 * gone (a kill -9, a crash) is stale and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

export const LOCK_FILE = "flaremq.lock";

export class StateLockedError extends Error {
  constructor(
    readonly stateDir: string,
    readonly holderPid: number,
  ) {
    super(`the state folder ${stateDir} is in use by another flaremq server (pid ${holderPid}); stop it, or start this one with --state-dir <another folder>`);
  }
}

/** Whether a process with this pid runs (and may be signalled by us, or exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the folder's lock for this process, or throws StateLockedError naming the live holder.
 * Returns the release, which removes the file if it is still ours.
 */
export function acquireStateLock(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(file, "utf8").trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) throw new StateLockedError(stateDir, holder);
    // Stale (its process is gone) or unreadable: take it over.
    try {
      unlinkSync(file);
    } catch {
      // another starter removed it first
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
