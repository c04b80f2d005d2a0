/**
 * One read of a queue for a pull: pure decision logic over the commit log, mirroring
 * RocketMQ's GetMessageStatus → PullStatus mapping.
 */
import { Limits } from "../../protocol/limits.js";
import type { PullStatus } from "../../protocol/message.js";
import type { MessageFilter } from "../../protocol/message-filter.js";
import type { CommitLog, LogEntry } from "./commit-log.js";

/** Most messages a filtered pull inspects before answering NO_MATCHED_MSG (bounded work). */
export const MAX_SCAN_MESSAGES = 2000;

export interface PullOutcome {
  pullStatus: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  entries: LogEntry[];
}

export function readForPull(log: CommitLog, offset: number, maxNums: number, filter: MessageFilter): PullOutcome {
  const minOffset = log.minOffset;
  const maxOffset = log.maxOffset;
  const base = { minOffset, maxOffset, entries: [] as LogEntry[] };
  if (offset < minOffset) return { ...base, pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: minOffset };
  if (offset > maxOffset) return { ...base, pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: maxOffset };
  if (offset === maxOffset) return { ...base, pullStatus: "NO_NEW_MSG", nextBeginOffset: offset };

  const entries: LogEntry[] = [];
  let bytes = 0;
  let scanned = 0;
  let next = offset;
  for (const entry of log.read(offset)) {
    if (entries.length >= maxNums || scanned >= MAX_SCAN_MESSAGES) break;
    if (entries.length > 0 && bytes + entry.message.body.length > Limits.maxPullBytes) break;
    scanned++;
    next = entry.queueOffset + 1;
    if (!filter.matches(entry.message)) continue;
    entries.push(entry);
    bytes += entry.message.body.length;
  }
  if (entries.length > 0) return { ...base, pullStatus: "FOUND", nextBeginOffset: next, entries };
  return { ...base, pullStatus: "NO_MATCHED_MSG", nextBeginOffset: next };
}
