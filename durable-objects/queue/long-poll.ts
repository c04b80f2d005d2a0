/**
 * Long polling of one queue (RocketMQ's PullRequestHoldService): a pull that finds nothing new
 * parks until an append wakes it or its wait runs out, then reads again. Every wake-up re-checks
 * the group's owner, so a rebalance while parked never hands messages to the old owner. What
 * one read answers is pull.ts.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { ExpressionType, MemberFence } from "../../protocol/consumer.js";
import { isMQError } from "../../protocol/errors.js";
import { buildFilter } from "../../protocol/message-filter.js";
import type { Waiters } from "../shared/waiters.js";
import type { CommitLog } from "./commit-log.js";
import type { Owners } from "./owners.js";
import { readForPull, type PullOutcome } from "./pull.js";

export interface PullRequest {
  offset: number;
  maxNums: number;
  expression?: string;
  expressionType?: ExpressionType;
  maxWaitMs: number;
  /** A group member's pull names its group and fence; the queue refuses non-owners. */
  group?: string;
  fence?: MemberFence;
  /**
   * Read from a slave: an offset the slave has not got yet is "no new message" at that offset,
   * never OFFSET_ILLEGAL (which would move the consumer back).
   */
  replica?: boolean;
  /** The caller's access key: parked pulls are shared fairly between accounts (see Waiters). */
  account?: string;
}

export interface LongPollDeps {
  log: CommitLog;
  owners: Owners;
  waiters: Waiters;
  now: () => number;
}

export class LongPoll {
  constructor(private readonly deps: LongPollDeps) {}

  /** Reads from `req.offset`; with nothing to answer, parks up to `req.maxWaitMs` and reads again. */
  async pull(req: PullRequest): Promise<PullOutcome> {
    const { log, owners, waiters, now } = this.deps;
    let filter;
    try {
      filter = buildFilter(req.expressionType, req.expression);
    } catch (e) {
      throw isMQError(e) ? toRpcError(e.code, e.message) : e;
    }
    const deadline = now() + req.maxWaitMs;
    let offset = req.offset;
    for (;;) {
      // Checked on every wake-up too: a rebalance while parked must not hand messages to the old owner.
      owners.check(req.group, req.fence);
      // A slave behind the consumer (it read further on the master) has not got those
      // offsets yet: that is "no new message", never a reason to move the consumer back.
      const outcome =
        req.replica && offset > log.maxOffset
          ? { pullStatus: "NO_NEW_MSG" as const, nextBeginOffset: offset, minOffset: log.minOffset, maxOffset: log.maxOffset, entries: [] }
          : readForPull(log, offset, req.maxNums, filter);
      if (outcome.pullStatus === "FOUND" || outcome.pullStatus === "OFFSET_ILLEGAL") return outcome;
      // A filtered scan that stopped short of the end answers at once, as RocketMQ does.
      if (outcome.nextBeginOffset < outcome.maxOffset) return outcome;
      if (req.replica && outcome.nextBeginOffset > outcome.maxOffset && now() >= deadline) return outcome;
      offset = outcome.nextBeginOffset;
      const remainingMs = deadline - now();
      if (remainingMs <= 0) {
        return { ...outcome, pullStatus: offset > req.offset ? "NO_MATCHED_MSG" : "NO_NEW_MSG" };
      }
      if (!(await waiters.wait(remainingMs, req.account))) {
        // Timed out, or released early to make room for another account's pull: ends empty.
        return { ...outcome, pullStatus: offset > req.offset ? "NO_MATCHED_MSG" : "NO_NEW_MSG" };
      }
    }
  }
}
