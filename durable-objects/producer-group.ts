/**
 * ProducerGroup: one object per producer group. Queue objects hand it transaction checks;
 * live producers of the group hold a long poll on it, and each check goes to exactly one of
 * them. Checks are kept in memory: a check lost with the object is raised again by its
 * queue at the next check interval, as RocketMQ re-checks undecided half messages.
 *
 * A group may register a webhook instead (for producers that cannot hold a poll): each check
 * is POSTed to it and the `{ decision }` it answers is applied at once. A webhook that fails
 * leaves the check for pollers and for the next interval.
 */
import { DurableObject } from "cloudflare:workers";
import type { LocalTransactionState, TransactionCheck } from "../protocol/transaction.js";
import type { Env } from "../workers/env.js";
import { Waiters } from "./queue/waiters.js";

/** Undelivered checks kept at most; beyond it the oldest are dropped (they will be re-raised). */
const MAX_PENDING_CHECKS = 10_000;
const WEBHOOK_TIMEOUT_MS = 5000;
const DECISIONS: ReadonlySet<string> = new Set(["COMMIT_MESSAGE", "ROLLBACK_MESSAGE", "UNKNOW"]);

export interface ProducerGroupStatus {
  pendingChecks: number;
  parkedPolls: number;
  lastPollAt: number;
  webhookUrl: string | null;
}

export class ProducerGroupDO extends DurableObject<Env> {
  private readonly checks = new Map<string, TransactionCheck>();
  private readonly waiters = new Waiters();
  /** When a producer of this group last polled, for operators and for tests. */
  private lastPollAt = 0;
  private webhookUrl: string | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS webhook (id INTEGER PRIMARY KEY CHECK (id = 0), url TEXT NOT NULL)");
      this.webhookUrl = ctx.storage.sql.exec<{ url: string }>("SELECT url FROM webhook").toArray()[0]?.url ?? null;
    });
  }

  /** Queues a check; a newer check of the same transaction replaces an undelivered older one. */
  async enqueueCheck(check: TransactionCheck): Promise<void> {
    if (this.webhookUrl && (await this.callWebhook(this.webhookUrl, check))) return;
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

  setWebhook(url: string | null): void {
    if (url === null) this.ctx.storage.sql.exec("DELETE FROM webhook");
    else this.ctx.storage.sql.exec("INSERT OR REPLACE INTO webhook (id, url) VALUES (0, ?)", url);
    this.webhookUrl = url;
  }

  status(): ProducerGroupStatus {
    return {
      pendingChecks: this.checks.size,
      parkedPolls: this.waiters.size,
      lastPollAt: this.lastPollAt,
      webhookUrl: this.webhookUrl,
    };
  }

  /** True when the webhook answered a decision that was applied (or UNKNOW). */
  private async callWebhook(url: string, check: TransactionCheck): Promise<boolean> {
    let decision: LocalTransactionState;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(check),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      const body = (await res.json()) as { decision?: unknown };
      if (!res.ok || typeof body.decision !== "string" || !DECISIONS.has(body.decision)) return false;
      decision = body.decision as LocalTransactionState;
    } catch {
      return false;
    }
    if (decision === "UNKNOW") return true;
    const { brokerName, topic, queueId } = check.messageQueue;
    const queue = this.env.QUEUE.get(this.env.QUEUE.idFromName(`${brokerName}/${topic}/${queueId}`));
    try {
      await queue.endTransaction(check.transactionId, check.producerGroup, decision);
      return true;
    } catch (e) {
      // A decision the queue refuses (already decided) needs no further check.
      return String(e).includes("[TRANSACTION_ALREADY");
    }
  }
}
