/**
 * ProducerGroup: one object per producer group. Queue objects hand it transaction checks;
 * live producers of the group hold a long poll on it, and each check goes to exactly one of
 * them. Checks are kept in memory: a check lost with the object is raised again by its
 * queue at the next check interval, as RocketMQ re-checks undecided half messages.
 */
import { DurableObject } from "cloudflare:workers";
import type { TransactionCheck } from "../protocol/transaction.js";
import type { Env } from "../workers/env.js";
import { Waiters } from "./queue/waiters.js";

/** Undelivered checks kept at most; beyond it the oldest are dropped (they will be re-raised). */
const MAX_PENDING_CHECKS = 10_000;

export class ProducerGroupDO extends DurableObject<Env> {
  private readonly checks = new Map<string, TransactionCheck>();
  private readonly waiters = new Waiters();
  /** When a producer of this group last polled, for operators and for tests. */
  private lastPollAt = 0;

  /** Queues a check; a newer check of the same transaction replaces an undelivered older one. */
  enqueueCheck(check: TransactionCheck): void {
    this.checks.delete(check.transactionId);
    this.checks.set(check.transactionId, check);
    if (this.checks.size > MAX_PENDING_CHECKS) {
      const oldest = this.checks.keys().next().value;
      if (oldest !== undefined) this.checks.delete(oldest);
    }
    this.waiters.wakeAll();
  }

  /** Hands up to `max` checks to one producer, waiting up to `maxWaitMs` for the first. */
  async pollChecks(maxWaitMs: number, max: number): Promise<TransactionCheck[]> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      this.lastPollAt = Date.now();
      if (this.checks.size > 0) {
        const out: TransactionCheck[] = [];
        for (const [id, check] of this.checks) {
          if (out.length >= max) break;
          out.push(check);
          this.checks.delete(id);
        }
        return out;
      }
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) return [];
      await this.waiters.wait(remainingMs);
    }
  }

  status(): { pendingChecks: number; parkedPolls: number; lastPollAt: number } {
    return { pendingChecks: this.checks.size, parkedPolls: this.waiters.size, lastPollAt: this.lastPollAt };
  }
}
