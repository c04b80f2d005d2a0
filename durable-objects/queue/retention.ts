/**
 * Retention of one queue's commit log (RocketMQ's fileReservedTime): whole rows older than the
 * reserved time are deleted by the alarm, a bounded number per run, oldest first.
 */
import type { CommitLog } from "./commit-log.js";

/** Rows one truncation call deletes at most (retention, a slave following its master, DLQ clean-up). */
export const MAX_EXPIRED_ROWS_PER_CALL = 500;

/** When the oldest stored row passes `reservedMs` (0: keep forever), or null for an empty log. */
export function retentionDueAt(log: CommitLog, reservedMs: number): number | null {
  const oldest = log.oldestStoreTimestamp;
  if (reservedMs === 0 || log.maxOffset === log.minOffset || oldest <= 0) return null;
  return oldest + reservedMs;
}

/** Deletes rows stored more than `reservedMs` before `now`, at most one bounded chunk. */
export function expireRows(log: CommitLog, reservedMs: number, now: number): void {
  if (reservedMs > 0) log.truncate({ storedBefore: now - reservedMs, maxRows: MAX_EXPIRED_ROWS_PER_CALL });
}
