/**
 * Queue: one Durable Object per (broker, topic, queueId). It owns the queue's commit log,
 * the consume offsets of every group on it, and the long-poll pulls parked on it.
 *
 * Concurrent sends are group-committed: while one write waits to become durable, new
 * appends queue up and the next flush stores all of them in one row, so rows written per
 * message fall as load rises. A send is answered only after its write is durable.
 */
import { DurableObject } from "cloudflare:workers";
import { toRpcError } from "../protocol/errors.js";
import { Limits } from "../protocol/limits.js";
import type { QueueStats, StoredMessage } from "../protocol/message.js";
import { parseTagExpression } from "../protocol/tag-filter.js";
import type { Env } from "../workers/env.js";
import { CommitLog, type LogEntry } from "./queue/commit-log.js";
import { readForPull, type PullOutcome } from "./queue/pull.js";
import { migrate } from "./queue/schema.js";
import { Waiters } from "./queue/waiters.js";

export interface AppendResult {
  queueOffset: number;
  storeTimestamp: number;
}

export interface PullRequest {
  offset: number;
  maxNums: number;
  expression?: string;
  maxWaitMs: number;
}

export interface ConsumeOffset {
  /** The committed offset; when none, 0 while the queue still holds offset 0, else -1. */
  offset: number;
  committed: boolean;
}

interface PendingAppend {
  messages: StoredMessage[];
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** A group commit stops growing at this many body bytes, keeping rows a sensible size. */
const GROUP_COMMIT_MAX_BYTES = Limits.maxBatchBodyBytes;

export class QueueDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private log!: CommitLog;
  private readonly waiters = new Waiters();
  private pending: PendingAppend[] = [];
  private flushing = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql);
      this.log = new CommitLog(this.sql, ctx.storage);
    });
  }

  /** Stores `messages` with consecutive offsets, all or nothing; resolves once durable. */
  append(messages: StoredMessage[]): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      // An empty run would store a zero-count row at maxOffset, whose key the next append
      // then collides with, failing every later append of this queue.
      if (messages.length === 0) {
        reject(toRpcError("MESSAGE_ILLEGAL", "an append needs at least one message"));
        return;
      }
      this.pending.push({ messages, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  async pull(req: PullRequest): Promise<PullOutcome> {
    const filter = parseTagExpression(req.expression);
    const deadline = Date.now() + req.maxWaitMs;
    let offset = req.offset;
    for (;;) {
      const outcome = readForPull(this.log, offset, req.maxNums, filter);
      if (outcome.pullStatus === "FOUND" || outcome.pullStatus === "OFFSET_ILLEGAL") return outcome;
      // A filtered scan that stopped short of the end answers at once, as RocketMQ does.
      if (outcome.nextBeginOffset < outcome.maxOffset) return outcome;
      offset = outcome.nextBeginOffset;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        return { ...outcome, pullStatus: offset > req.offset ? "NO_MATCHED_MSG" : "NO_NEW_MSG" };
      }
      await this.waiters.wait(remainingMs);
    }
  }

  getMessage(queueOffset: number): LogEntry | null {
    return this.log.get(queueOffset) ?? null;
  }

  stats(): QueueStats & { rowsWritten: number; messagesAppended: number; parkedPulls: number } {
    return {
      minOffset: this.log.minOffset,
      maxOffset: this.log.maxOffset,
      lastStoreTimestamp: this.log.lastStoreTimestamp,
      storageBytes: this.ctx.storage.sql.databaseSize,
      rowsWritten: this.log.rowsWritten,
      messagesAppended: this.log.messagesAppended,
      parkedPulls: this.waiters.size,
    };
  }

  searchOffset(timestamp: number): number {
    return this.log.searchOffset(timestamp);
  }

  commitOffset(group: string, offset: number): void {
    if (offset > this.log.maxOffset) {
      throw toRpcError("OFFSET_ILLEGAL", `offset ${offset} is beyond maxOffset ${this.log.maxOffset}`);
    }
    this.sql.exec(
      `INSERT INTO consumer_offset (grp, queue_offset, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET queue_offset = excluded.queue_offset, updated_at = excluded.updated_at`,
      group,
      offset,
      Date.now(),
    );
  }

  fetchOffset(group: string): ConsumeOffset {
    const row = this.sql
      .exec<{ queue_offset: number }>("SELECT queue_offset FROM consumer_offset WHERE grp = ?", group)
      .toArray()[0];
    if (row) return { offset: row.queue_offset, committed: true };
    // RocketMQ's broker answers 0 for a group it has never seen while offset 0 is still
    // there, so a new group on a young queue reads it from the start.
    return { offset: this.log.minOffset === 0 ? 0 : -1, committed: false };
  }

  /** Deletes every message and offset of this queue (its topic was deleted). */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAll();
    migrate(this.sql);
    this.log.reset();
    this.waiters.wakeAll();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const group = takeGroup(this.pending);
        const results: AppendResult[] = [];
        try {
          // One row for the whole group; each caller learns where its run starts.
          const all = group.flatMap((p) => p.messages);
          const { baseOffset, storeTimestamp } = this.log.append(all, Date.now());
          let offset = baseOffset;
          for (const p of group) {
            results.push({ queueOffset: offset, storeTimestamp });
            offset += p.messages.length;
          }
          // Answer only once durable; appends arriving meanwhile form the next group.
          await this.ctx.storage.sync();
        } catch (e) {
          for (const p of group) p.reject(e instanceof Error ? e : toRpcError("SERVICE_UNAVAILABLE", "store failed"));
          continue;
        }
        group.forEach((p, i) => p.resolve(results[i]!));
        this.waiters.wakeAll();
      }
    } finally {
      this.flushing = false;
    }
  }
}

function takeGroup(pending: PendingAppend[]): PendingAppend[] {
  let bytes = 0;
  let n = 0;
  while (n < pending.length) {
    const size = pending[n]!.messages.reduce((s, m) => s + m.body.length, 0);
    if (n > 0 && bytes + size > GROUP_COMMIT_MAX_BYTES) break;
    bytes += size;
    n++;
  }
  return pending.splice(0, n);
}
