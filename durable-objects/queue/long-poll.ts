/**
 * The queue's side of a long poll (RocketMQ's PullRequestHoldService, whose waiting the Worker
 * holds: cluster/long-polls.ts). A pull is answered at once, after checking the group's owner, so
 * a rebalance never hands messages to the old owner; a caller with nothing to read parks a socket
 * here (shared/wake-sockets.ts), woken by an append or an owner change, and is told to read again
 * at once if the queue moved on since its read (`isStale`). What one read answers is pull.ts.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { ExpressionType, MemberFence } from "../../protocol/consumer.js";
import { isMQError } from "../../protocol/errors.js";
import { buildFilter } from "../../protocol/message-filter.js";
import type { CommitLog } from "./commit-log.js";
import type { Owners } from "./owners.js";
import { readForPull, type PullOutcome } from "./pull.js";

export interface PullRequest {
  offset: number;
  maxNums: number;
  expression?: string;
  expressionType?: ExpressionType;
  /** A group member's pull names its group and fence; the queue refuses non-owners. */
  group?: string;
  fence?: MemberFence;
  /**
   * Read from a slave: an offset the slave has not got yet is "no new message" at that offset,
   * never OFFSET_ILLEGAL (which would move the consumer back).
   */
  replica?: boolean;
}

/** What a parked caller saw at its last read: the queue's maxOffset, and its fence if it is a group member. */
export interface PullSeen {
  maxOffset: number;
  group?: string;
  fence?: MemberFence;
}

export interface LongPollDeps {
  log: CommitLog;
  owners: Owners;
}

export class LongPoll {
  constructor(private readonly deps: LongPollDeps) {}

  /** One read from `req.offset`, answered at once. */
  pull(req: PullRequest): PullOutcome {
    const { log, owners } = this.deps;
    let filter;
    try {
      filter = buildFilter(req.expressionType, req.expression);
    } catch (e) {
      throw isMQError(e) ? toRpcError(e.code, e.message) : e;
    }
    owners.check(req.group, req.fence);
    // A slave behind the consumer (it read further on the master) has not got those offsets
    // yet: that is "no new message", never a reason to move the consumer back.
    if (req.replica && req.offset > log.maxOffset) {
      return { pullStatus: "NO_NEW_MSG", nextBeginOffset: req.offset, minOffset: log.minOffset, maxOffset: log.maxOffset, entries: [] };
    }
    return readForPull(log, req.offset, req.maxNums, filter);
  }

  /**
   * Whether a caller that saw `seen` must read again rather than park: the log moved (an append,
   * a replicated row, a purge) or its fence no longer holds (the next read refuses it).
   */
  isStale(seen: unknown): boolean {
    const s = seen as Partial<PullSeen> | null;
    if (typeof s?.maxOffset !== "number" || s.maxOffset !== this.deps.log.maxOffset) return true;
    try {
      this.deps.owners.check(s.group, s.fence);
    } catch {
      return true;
    }
    return false;
  }
}
