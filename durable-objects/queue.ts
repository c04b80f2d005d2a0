/**
 * Queue: one Durable Object per (broker, topic, queueId). It owns the queue's commit log,
 * the consume offsets of every group on it, and the long-poll pulls parked on it.
 *
 * Concurrent sends are group-committed: while one write waits to become durable, new
 * appends queue up and the next flush stores all of them in one row, so rows written per
 * message fall as load rises. A send is answered only after its write is durable.
 */
import { DurableObject } from "cloudflare:workers";
import { toRpcError } from "../cluster/rpc-errors.js";
import { Limits } from "../protocol/limits.js";
import { storedSize } from "../protocol/log-codec.js";
import type { MessageQueue, QueueStats, SendStatus, StoredMessage } from "../protocol/message.js";
import { toMessageExt } from "../protocol/message-ext.js";
import type { ExpressionType, MemberFence } from "../protocol/consumer.js";
import { isMQError } from "../protocol/errors.js";
import { buildFilter } from "../protocol/message-filter.js";
import {
  TransactionProps,
  type EndTransactionResult,
  type LocalTransactionState,
  type TransactionCheck,
} from "../protocol/transaction.js";
import { readConfig } from "../cluster/config.js";
import type { Env } from "../cluster/env.js";
import { AlarmSteps } from "./queue/alarm-steps.js";
import { CommitLog, type LogEntry } from "./queue/commit-log.js";
import { DelayedStore, type DelayedStats } from "./queue/delayed-store.js";
import { HalfStore, type HalfInfo, type HalfState } from "./queue/half-store.js";
import { readForPull, type PullOutcome } from "./queue/pull.js";
import { RecentIds } from "./queue/recent-ids.js";
import { Owners } from "./queue/owners.js";
import { migrate } from "./queue/schema.js";
import { Waiters } from "./shared/waiters.js";
import { Replicator, type ReplicaAck, type ReplicaBatch, type SlaveLink, type SlaveStatus } from "./queue/replicator.js";
import { producerGroupStub, slaveReplicateCall } from "../cluster/stubs.js";

export interface AppendResult {
  queueOffset: number;
  storeTimestamp: number;
  /** SYNC_MASTER only, when no slave stored it in time: FLUSH_SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE. */
  sendStatus?: SendStatus;
}

export interface ReplicationStatus {
  brokerId: number;
  minOffset: number;
  maxOffset: number;
  slaves: SlaveStatus[];
}

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



export interface QueueProgressRaw {
  minOffset: number;
  maxOffset: number;
  committed: number;
  lastStoreTimestamp: number;
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
  /** Stored in a row of its own: it was in a group whose append failed. */
  alone?: boolean;
}

/**
 * A group commit stops growing at this many stored bytes (bodies, keys and properties), so a
 * row, and the replication push that carries it, stays a bounded size whoever sends what.
 */
const GROUP_COMMIT_MAX_BYTES = Limits.maxBatchBodyBytes;
/** Work one alarm run does at most; more due work re-arms the alarm at once. */
const ALARM_MAX_DELAYED = 1000;
/** Stored bytes of the delayed messages one alarm run moves into one log row, as a group commit. */
const ALARM_MAX_DELAYED_BYTES = GROUP_COMMIT_MAX_BYTES;
const ALARM_MAX_CHECKS = 200;
const ALARM_MAX_EXPIRED_ROWS = 500;
/** Bodies one alarm run decodes for checks at most, bounding its memory. */
const ALARM_MAX_CHECK_BYTES = 16 * 1024 * 1024;
/** Query by key returns at most this many per queue (RocketMQ's maxMsgsNumBatch). */
const QUERY_MAX_PER_QUEUE = 64;
/** Messages a msgId lookup reads at most in one queue. */
const MSGID_MAX_SCAN = 20_000;
/** Decided transactions are remembered this long, so repeated decisions stay idempotent. */
const DECIDED_RETENTION_MS = 3600_000;

export class QueueDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private log!: CommitLog;
  private readonly waiters = new Waiters();
  private pending: PendingAppend[] = [];
  private flushing = false;
  private delayed!: DelayedStore;
  private half!: HalfStore;
  private readonly recent = new RecentIds<AppendResult>();
  /** The alarm time this object has set, mirrored in memory so arming costs no read. */
  private alarmAt: number | null = null;
  private identity: MessageQueue | null = null;
  /** 0: this object is its broker's master queue; >0: a slave that only takes replication. */
  private brokerId = 0;
  private owners!: Owners;
  private replicator!: Replicator;
  /** When the next ASYNC replication push is due (memory; a start schedules one). */
  private replicationDueAt: number | null = null;
  private replicationFailures = 0;
  /** The epoch of this queue's log: set when a master first stores, renewed by a purge; a slave's is its master's. */
  private epoch = 0;
  /** The alarm's steps, isolated from each other and logged once per failure streak. */
  private readonly steps = new AlarmSteps(() => this.queueName());

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql);
      this.log = new CommitLog(this.sql, ctx.storage);
      this.delayed = new DelayedStore(this.sql);
      this.half = new HalfStore(this.sql);
      this.owners = new Owners(this.sql);
      this.replicator = this.newReplicator();
      const id = this.sql
        .exec<{ broker: string; topic: string; queue_id: number; broker_id: number; epoch: number }>(
          "SELECT broker, topic, queue_id, broker_id, epoch FROM identity",
        )
        .toArray()[0];
      if (id) {
        this.identity = { brokerName: id.broker, topic: id.topic, queueId: id.queue_id };
        this.brokerId = id.broker_id;
        this.epoch = id.epoch;
        // A master stored before epochs existed gets one now.
        if (this.brokerId === 0 && this.epoch === 0) {
          this.epoch = Date.now();
          this.sql.exec("UPDATE identity SET epoch = ?", this.epoch);
        }
      }
      // A master that restarted does not know where its slaves are: one push finds out.
      if (this.slaveLinks().length > 0) this.replicationDueAt = Date.now() + readConfig(env).asyncReplicationDelayMs;
      this.alarmAt = await ctx.storage.getAlarm();
      // Self-healing: due work with no alarm (an alarm lost to a crash) gets one again.
      await this.armAlarm();
    });
  }

  /**
   * Stores `messages` with consecutive offsets, all or nothing; resolves once durable.
   * A retry carrying the msgId of a recent append gets that append's result back.
   */
  append(messages: StoredMessage[], options: { dedupe?: boolean; mq?: MessageQueue } = {}): Promise<AppendResult> {
    if (this.brokerId !== 0) return Promise.reject(toRpcError("NO_PERMISSION", "a slave queue takes no appends"));
    if (options.mq) this.remember(options.mq);
    // An admin resend repeats a msgId on purpose; only producer retries are folded.
    const seen = options.dedupe !== false && messages[0] ? this.recent.get(recentKey(messages[0])) : undefined;
    if (seen) return Promise.resolve(seen);
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

  /**
   * A master with slaves adds `slaveHolds`: what its first slave holds, while that slave is
   * healthy, so the Worker can suggest it to a consumer far behind without asking again.
   */
  async pull(req: PullRequest): Promise<PullOutcome & { slaveHolds?: number }> {
    const outcome = await this.readPull(req);
    const slave = this.brokerId === 0 ? this.replicator.status(this.slaveLinks())[0] : undefined;
    return slave && slave.lastError === null && slave.ackedOffset !== null ? { ...outcome, slaveHolds: slave.ackedOffset } : outcome;
  }

  private async readPull(req: PullRequest): Promise<PullOutcome> {
    let filter;
    try {
      filter = buildFilter(req.expressionType, req.expression);
    } catch (e) {
      throw isMQError(e) ? toRpcError(e.code, e.message) : e;
    }
    const deadline = Date.now() + req.maxWaitMs;
    let offset = req.offset;
    for (;;) {
      // Checked on every wake-up too: a rebalance while parked must not hand messages to the old owner.
      this.owners.check(req.group, req.fence);
      // A slave behind the consumer (it read further on the master) has not got those
      // offsets yet: that is "no new message", never a reason to move the consumer back.
      const outcome =
        req.replica && offset > this.log.maxOffset
          ? { pullStatus: "NO_NEW_MSG" as const, nextBeginOffset: offset, minOffset: this.log.minOffset, maxOffset: this.log.maxOffset, entries: [] }
          : readForPull(this.log, offset, req.maxNums, filter);
      if (outcome.pullStatus === "FOUND" || outcome.pullStatus === "OFFSET_ILLEGAL") return outcome;
      // A filtered scan that stopped short of the end answers at once, as RocketMQ does.
      if (outcome.nextBeginOffset < outcome.maxOffset) return outcome;
      if (req.replica && outcome.nextBeginOffset > outcome.maxOffset && Date.now() >= deadline) return outcome;
      offset = outcome.nextBeginOffset;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        return { ...outcome, pullStatus: offset > req.offset ? "NO_MATCHED_MSG" : "NO_NEW_MSG" };
      }
      if (!(await this.waiters.wait(remainingMs, req.account))) {
        // Timed out, or released early to make room for another account's pull: ends empty.
        return { ...outcome, pullStatus: offset > req.offset ? "NO_MATCHED_MSG" : "NO_NEW_MSG" };
      }
    }
  }

  /** Records which member of `group` owns this queue (null: nobody); parked pulls re-check. */
  setOwner(group: string, clientId: string | null, generation: number): void {
    this.owners.set(group, clientId, generation);
    this.waiters.wakeAll();
  }

  /** Moves a group's offset to the first message stored at or after `timestamp` (admin reset). */
  resetOffset(group: string, timestamp: number, resetSeq: number): number {
    const offset = this.log.searchOffset(timestamp);
    this.sql.exec(
      `INSERT INTO consumer_offset (grp, queue_offset, updated_at, reset_seq) VALUES (?, ?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET queue_offset = excluded.queue_offset, updated_at = excluded.updated_at,
         reset_seq = MAX(reset_seq, excluded.reset_seq)`,
      group,
      offset,
      Date.now(),
      resetSeq,
    );
    void this.offsetChanged(group);
    return offset;
  }

  progress(group: string): QueueProgressRaw {
    const consumed = this.fetchOffset(group);
    return {
      minOffset: this.log.minOffset,
      maxOffset: this.log.maxOffset,
      committed: consumed.committed ? consumed.offset : -1,
      lastStoreTimestamp: this.log.lastStoreTimestamp,
    };
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

  /** Commits a consume offset; a member's commit is refused if it is not the owner or missed a reset. */
  commitOffset(group: string, offset: number, fence?: MemberFence): void {
    if (offset > this.log.maxOffset) {
      throw toRpcError("OFFSET_ILLEGAL", `offset ${offset} is beyond maxOffset ${this.log.maxOffset}`);
    }
    this.owners.check(group, fence);
    if (fence?.offsetResetSeq !== undefined) {
      const row = this.sql.exec<{ reset_seq: number }>("SELECT reset_seq FROM consumer_offset WHERE grp = ?", group).toArray()[0];
      if (row && row.reset_seq > fence.offsetResetSeq) {
        throw toRpcError("STALE_OFFSET_RESET", `the offsets of group "${group}" were reset; reload them before committing`);
      }
    }
    this.storeOffset(group, offset);
    void this.offsetChanged(group);
  }

  /**
   * A slave's answer while its master is away: only what replication brought. A slave that has
   * never heard from its master knows nothing, and says so rather than guess 0.
   */
  fetchReplicaOffset(group: string): ConsumeOffset {
    if (!this.identity) throw toRpcError("SERVICE_UNAVAILABLE", "this slave has not been replicated to yet");
    return this.fetchOffset(group);
  }

  /**
   * A commit taken by a slave while its master is away: unfenced (a slave has no owners) and not
   * checked against the slave's maxOffset (the consumer may have read further on the master).
   */
  commitReplicaOffset(group: string, offset: number): void {
    this.storeOffset(group, offset);
  }

  /**
   * An offset pushed by the master. A commit this slave took while its master was unreachable
   * (the master object may still be alive and pushing an older value meanwhile) is kept when it
   * is newer than the master's: otherwise a consumer that committed on the slave would read an
   * older offset back, and re-read what it had consumed.
   */
  private storeReplicatedOffset(group: string, offset: number, updatedAt: number | undefined): void {
    if (updatedAt === undefined) return this.storeOffset(group, offset);
    this.sql.exec(
      `INSERT INTO consumer_offset (grp, queue_offset, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET queue_offset = excluded.queue_offset, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= consumer_offset.updated_at`,
      group,
      offset,
      updatedAt,
    );
  }

  /** One row per group (WITHOUT ROWID): a commit writes exactly one row. */
  private storeOffset(group: string, offset: number): void {
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

  /**
   * Keeps a message invisible until `dueAt`, then appends it (it gets its offset then, as in
   * RocketMQ). A due time already past appends at once.
   */
  async appendDelayed(mq: MessageQueue, message: StoredMessage, dueAt: number, level: number): Promise<AppendResult | null> {
    if (dueAt <= Date.now()) return this.append([message], { mq });
    this.remember(mq);
    this.delayed.add(message, dueAt, level);
    await this.armAlarm();
    await this.ctx.storage.sync();
    return null;
  }

  delayedStats(): DelayedStats {
    return this.delayed.stats();
  }

  /** Stores a transaction's half message: durable, invisible until committed. Idempotent per msgId. */
  async prepareHalf(mq: MessageQueue, message: StoredMessage, producerGroup: string, firstCheckAt: number): Promise<void> {
    const existing = this.half.get(message.msgId);
    if (existing) {
      // Names no group: which producer group owns a transaction is not the sender's business.
      if (existing.producerGroup !== producerGroup)
        throw toRpcError("TRANSACTION_GROUP_MISMATCH", `msgId ${message.msgId} is taken by another transaction on this queue; send with a new msgId`);
      return;
    }
    this.remember(mq);
    this.half.add(message, producerGroup, Date.now(), firstCheckAt);
    await this.armAlarm();
    await this.ctx.storage.sync();
  }

  /**
   * Applies a producer's decision. COMMIT appends the message and makes it visible; ROLLBACK
   * discards it; both are idempotent; contradicting an earlier decision is refused; UNKNOW
   * changes nothing (the next check asks again). A transaction of another producer group is
   * answered exactly as one that does not exist, so a decision reveals nothing about it.
   */
  async endTransaction(transactionId: string, producerGroup: string, decision: LocalTransactionState): Promise<EndTransactionResult> {
    const info = this.half.get(transactionId);
    if (!info || info.producerGroup !== producerGroup)
      throw toRpcError("TRANSACTION_NOT_FOUND", `no transaction ${transactionId} of this producer group on this queue (unknown or expired)`);
    const result = (state: HalfState, queueOffset: number | null): EndTransactionResult => ({ transactionId, state, queueOffset });
    if (decision === "UNKNOW") return result(info.state, info.queueOffset);
    if (decision === "COMMIT_MESSAGE") {
      if (info.state === "COMMITTED") return result("COMMITTED", info.queueOffset);
      if (info.state !== "PENDING")
        throw toRpcError("TRANSACTION_ALREADY_ROLLED_BACK", `transaction ${transactionId} was already rolled back`);
      const message = this.half.message(transactionId);
      if (!message) throw toRpcError("TRANSACTION_NOT_FOUND", `transaction ${transactionId} has no message`);
      const now = Date.now();
      const visible = { ...message, properties: withoutTransactionProps(message.properties) };
      let offset = 0;
      // Append and decision in one transaction: a commit is never half applied.
      // The decision is written first and the append last, so nothing can fail after the
      // log's in-memory position moved (a rolled-back append would leave a gap).
      this.ctx.storage.transactionSync(() => {
        offset = this.log.maxOffset;
        this.half.decide(transactionId, "COMMITTED", now, offset);
        this.log.append([visible], now);
      });
      await this.ctx.storage.sync();
      this.waiters.wakeAll();
      await this.scheduleReplication();
      return result("COMMITTED", offset);
    }
    if (info.state === "COMMITTED")
      throw toRpcError("TRANSACTION_ALREADY_COMMITTED", `transaction ${transactionId} was already committed`);
    if (info.state === "PENDING") {
      this.half.decide(transactionId, "ROLLED_BACK", Date.now(), null);
      await this.ctx.storage.sync();
    }
    return result(info.state === "PENDING" ? "ROLLED_BACK" : info.state, null);
  }

  listTransactions(state: HalfState | undefined, limit: number): HalfInfo[] {
    return this.half.list(state, limit);
  }

  /**
   * Delivers due delayed messages, raises due transaction checks, forgets old decisions,
   * applies retention and pushes to slaves. Each step is isolated (a failing one backs off and
   * is logged once, the others go on) and the alarm is re-armed whatever happened.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    try {
      await this.steps.run("delayed delivery", now, () => this.deliverDue(now));
      await this.steps.run("transaction checks", now, async () => {
        const config = readConfig(this.env);
        let checks: ReturnType<HalfStore["takeDueChecks"]> = [];
        this.ctx.storage.transactionSync(() => {
          checks = this.half.takeDueChecks(now, ALARM_MAX_CHECKS, config.transactionCheckMax, config.transactionCheckIntervalMs, ALARM_MAX_CHECK_BYTES);
        });
        await this.sendChecks(checks);
      });
      await this.steps.run("forget decided transactions", now, () => {
        this.half.forgetDecided(now - DECIDED_RETENTION_MS, 500);
      });
      // Retention: whole rows older than fileReservedTime go, in bounded chunks.
      await this.steps.run("retention", now, () => {
        const reservedMs = readConfig(this.env).fileReservedTimeMs;
        if (reservedMs > 0) this.log.truncate({ storedBefore: now - reservedMs, maxRows: ALARM_MAX_EXPIRED_ROWS });
      });
      // Any alarm run carries pending replication along, even one that fired for other work.
      if (this.replicationDueAt !== null) await this.steps.run("replication push", now, () => this.replicateNow());
    } finally {
      await this.armAlarm();
    }
  }

  /** Moves due delayed messages into the log, one bounded row per run. */
  private async deliverDue(now: number): Promise<void> {
    let delivered = 0;
    this.ctx.storage.transactionSync(() => {
      const due = this.delayed.takeDue(now, ALARM_MAX_DELAYED, ALARM_MAX_DELAYED_BYTES);
      if (due.length > 0) this.log.append(due, now);
      delivered = due.length;
    });
    if (delivered === 0) return;
    await this.ctx.storage.sync();
    this.waiters.wakeAll();
    if (this.replicationDueAt === null) this.replicationDueAt = now;
  }

  /** How log lines name this queue: topic/broker/queueId, and @brokerId for a slave. */
  private queueName(): string {
    const mq = this.identity;
    if (!mq) return `(unnamed queue object ${this.ctx.id.toString()})`;
    return `${mq.topic}/${mq.brokerName}/${mq.queueId}${this.brokerId === 0 ? "" : `@${this.brokerId}`}`;
  }

  /** Messages carrying `key` within a store-time range (query by key, capped per queue in count and body bytes). */
  queryKey(key: string, beginMs: number, endMs: number, maxNum: number): LogEntry[] {
    return this.log.findByKey(key, beginMs, endMs, Math.min(maxNum, QUERY_MAX_PER_QUEUE), Limits.maxPullBytes);
  }

  /** A message by its client unique key (msgId), scanning near its birth time. */
  findMsgId(msgId: string, bornAt: number | null): LogEntry | null {
    return this.log.findByMsgId(msgId, bornAt ?? undefined, MSGID_MAX_SCAN) ?? null;
  }

  /** Deletes messages before `offset` (dead-letter clean-up); returns how many went. */
  async truncateBefore(offset: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = this.log.truncate({ beforeOffset: offset, maxRows: ALARM_MAX_EXPIRED_ROWS });
      removed += n;
      if (n === 0) break;
    }
    if (removed > 0) await this.scheduleReplication(); // the slaves drop the same rows
    return removed;
  }

  /** Deletes every message and offset of this queue (its topic was deleted). */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAll();
    migrate(this.sql);
    this.log.reset();
    this.delayed = new DelayedStore(this.sql);
    this.recent.clear();
    this.identity = null;
    this.brokerId = 0;
    this.alarmAt = null;
    this.replicationDueAt = null;
    // A new log: the next epoch is later than this one, so slaves drop what they hold of the
    // old log and refuse late pushes from it. Cursors point into the old log: start afresh.
    this.lastEpoch = this.epoch;
    this.epoch = 0;
    this.replicator = this.newReplicator();
    this.owners.clear();
    this.waiters.wakeAll();
  }

  private async sendChecks(checks: ReturnType<HalfStore["takeDueChecks"]>): Promise<void> {
    const mq = this.identity;
    if (!mq || checks.length === 0) return;
    await Promise.all(
      checks.map(async (c) => {
        const check: TransactionCheck = {
          transactionId: c.transactionId,
          producerGroup: c.producerGroup,
          messageQueue: mq,
          checkTimes: c.checkTimes,
          message: toMessageExt(mq, {
            queueOffset: -1,
            storeTimestamp: c.message.bornTimestamp,
            message: {
              ...c.message,
              properties: { ...c.message.properties, [TransactionProps.TRANSACTION_CHECK_TIMES]: String(c.checkTimes) },
            },
          }),
        };
        try {
          const group = producerGroupStub(this.env, c.producerGroup);
          await group.enqueueCheck(check);
        } catch (e) {
          // The half message stays pending; the next interval checks it again.
          console.warn(`transaction check ${c.transactionId} not delivered: ${String(e)}`);
        }
      }),
    );
  }

  /** Points the single alarm at the earliest due work, writing only when it must move earlier. */
  private async armAlarm(): Promise<void> {
    const oldestDecided = this.half.oldestDecidedAt();
    // A failing step's work waits for its backoff, so it cannot re-fire the alarm at once.
    const candidates = [
      this.steps.dueAt("retention", this.retentionDueAt()),
      this.steps.dueAt("delayed delivery", this.delayed.nextDueAt()),
      this.steps.dueAt("transaction checks", this.half.nextCheckAt()),
      this.steps.dueAt("forget decided transactions", oldestDecided === null ? null : oldestDecided + DECIDED_RETENTION_MS),
      this.steps.dueAt("replication push", this.replicationDueAt),
    ].filter((t): t is number => t !== null);
    if (candidates.length === 0) return;
    // Never re-arm at or before "now": an alarm set to the time of the run that is ending
    // may be taken for that run and dropped.
    const next = Math.max(Math.min(...candidates), Date.now() + 1);
    // An in-memory alarm time already past may belong to a run that is over: re-arm then.
    if (this.alarmAt !== null && this.alarmAt > Date.now() && this.alarmAt <= next) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  /** When the oldest stored row passes fileReservedTime, or null for an empty log. */
  private retentionDueAt(): number | null {
    const oldest = this.log.oldestStoreTimestamp;
    const reservedMs = readConfig(this.env).fileReservedTimeMs;
    if (reservedMs === 0 || this.log.maxOffset === this.log.minOffset || oldest <= 0) return null;
    return oldest + reservedMs;
  }

  private remember(mq: MessageQueue, brokerId = 0, epoch?: number): void {
    if (this.identity) return;
    const e = epoch ?? Math.max(Date.now(), this.lastEpoch + 1);
    this.sql.exec(
      "INSERT OR REPLACE INTO identity (id, broker, topic, queue_id, broker_id, epoch) VALUES (0, ?, ?, ?, ?, ?)",
      mq.brokerName,
      mq.topic,
      mq.queueId,
      brokerId,
      e,
    );
    this.identity = { brokerName: mq.brokerName, topic: mq.topic, queueId: mq.queueId };
    this.brokerId = brokerId;
    this.epoch = e;
  }

  /** The epoch before the last purge (memory), so the next one is later. */
  private lastEpoch = 0;

  private newReplicator(): Replicator {
    return new Replicator(this.log, (page, limit) => this.readOffsets(page, limit), () => this.epoch);
  }

  /**
   * Slave side: stores a master's rows and consumer offsets exactly as sent. Idempotent: rows
   * already held are skipped, so a repeated or overlapping push changes nothing.
   */
  async replicate(batch: ReplicaBatch): Promise<ReplicaAck> {
    if (this.identity && this.brokerId === 0) throw toRpcError("NO_PERMISSION", "a master queue takes no replication");
    if (this.identity && batch.epoch < this.epoch) throw toRpcError("SERVICE_UNAVAILABLE", "a push from an older log of this queue (it was purged since)");
    if (this.identity && batch.epoch > this.epoch) {
      // The master's log was purged and started again: drop everything of the old one.
      await this.purge();
    }
    this.remember(batch.mq, batch.brokerId, batch.epoch);
    let wrote = false;
    // Row by row (each its own transaction), so memory and disk agree even if one fails.
    for (const row of batch.rows) wrote = this.log.appendRaw(row) || wrote;
    if (batch.offsets.length > 0) {
      this.ctx.storage.transactionSync(() => {
        for (const { group, offset, updatedAt } of batch.offsets) this.storeReplicatedOffset(group, offset, updatedAt);
      });
    }
    // Bounded per push; the master pushes again while the slave's minOffset is behind its own.
    for (let i = 0; i < 10 && batch.minOffset > this.log.minOffset; i++) {
      if (this.log.truncate({ beforeOffset: batch.minOffset, maxRows: ALARM_MAX_EXPIRED_ROWS }) === 0) break;
    }
    if (wrote) {
      this.waiters.wakeAll();
      await this.armAlarm(); // the slave's own retention, as on the master
    }
    return { nextOffset: this.log.maxOffset, minOffset: this.log.minOffset };
  }

  /** Master side: where each slave stands (cluster list's replication lag). */
  replicationStatus(): ReplicationStatus {
    return {
      brokerId: this.brokerId,
      minOffset: this.log.minOffset,
      maxOffset: this.log.maxOffset,
      slaves: this.replicator.status(this.slaveLinks()),
    };
  }

  /** The slaves this queue replicates to: none unless it is a master with an identity. */
  private slaveLinks(): SlaveLink[] {
    const mq = this.identity;
    if (!mq || this.brokerId !== 0) return [];
    // Built once per identity: every append and commit asks for them.
    if (this.links?.identity !== mq) this.links = { identity: mq, links: this.buildSlaveLinks(mq) };
    return this.links.links;
  }

  private links: { identity: MessageQueue; links: SlaveLink[] } | null = null;

  private buildSlaveLinks(mq: MessageQueue): SlaveLink[] {
    const config = readConfig(this.env);
    return Array.from({ length: config.slavesPerBroker }, (_, i) => {
      const brokerId = i + 1;
      return { brokerId, replicate: slaveReplicateCall(this.env, mq, brokerId) };
    });
  }

  private readOffsets(
    page: { groups: readonly string[] } | { after: string },
    limit: number,
  ): { group: string; offset: number; updatedAt: number }[] {
    type Row = { grp: string; queue_offset: number; updated_at: number };
    const rows =
      "after" in page
        ? this.sql
            .exec<Row>("SELECT grp, queue_offset, updated_at FROM consumer_offset WHERE grp > ? ORDER BY grp LIMIT ?", page.after, limit)
            .toArray()
        : page.groups.flatMap((g) =>
            this.sql.exec<Row>("SELECT grp, queue_offset, updated_at FROM consumer_offset WHERE grp = ?", g).toArray(),
          );
    return rows.map((r) => ({ group: r.grp, offset: r.queue_offset, updatedAt: r.updated_at }));
  }

  private async offsetChanged(group: string): Promise<void> {
    if (this.slaveLinks().length === 0) return;
    this.replicator.markOffsetDirty(group);
    await this.scheduleReplication();
  }

  /** ASYNC replication: one push after ASYNC_REPLICATION_DELAY_MS gathers every append meanwhile. */
  private async scheduleReplication(): Promise<void> {
    if (this.replicationDueAt !== null || this.slaveLinks().length === 0) return;
    this.replicationDueAt = Date.now() + readConfig(this.env).asyncReplicationDelayMs;
    await this.armAlarm();
  }

  private async replicateNow(): Promise<void> {
    this.replicationDueAt = null;
    let ok = false;
    try {
      const links = this.slaveLinks();
      const mq = this.identity;
      if (links.length === 0 || !mq) {
        ok = true;
        return;
      }
      ok = await this.replicator.pushAll(links, mq);
      if (ok) {
        this.replicationFailures = 0;
        if (this.replicator.behind(links)) this.replicationDueAt = Date.now() + 1;
      }
    } finally {
      if (!ok) {
        // An unreachable slave (or a push that threw) is retried with backoff, up to 30 s apart.
        this.replicationFailures++;
        this.replicationDueAt = Date.now() + Math.min(30_000, 500 * 2 ** Math.min(this.replicationFailures, 6));
      }
    }
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const group = takeGroup(this.pending);
        const results: AppendResult[] = [];
        const fail = (e: unknown) => {
          for (const p of group) p.reject(e instanceof Error ? e : toRpcError("SERVICE_UNAVAILABLE", "store failed"));
        };
        let stored: { baseOffset: number; storeTimestamp: number };
        try {
          // One row for the whole group; each caller learns where its run starts.
          stored = this.log.append(group.flatMap((p) => p.messages), Date.now());
        } catch (e) {
          // The append stored nothing. One send that cannot be stored must not fail the sends
          // grouped with it: each goes again in a row of its own.
          if (group.length > 1) this.pending.unshift(...group.map((p) => ({ ...p, alone: true })));
          else fail(e);
          continue;
        }
        let offset = stored.baseOffset;
        for (const p of group) {
          results.push({ queueOffset: offset, storeTimestamp: stored.storeTimestamp });
          offset += p.messages.length;
        }
        try {
          // Answer only once durable; appends arriving meanwhile form the next group.
          await this.ctx.storage.sync();
        } catch (e) {
          fail(e);
          continue;
        }
        const retention = this.retentionDueAt();
        if (retention !== null && (this.alarmAt === null || this.alarmAt > retention)) {
          // Once per retention period, not per append: the alarm only moves earlier.
          this.alarmAt = retention;
          await this.ctx.storage.setAlarm(retention);
        }
        // Consumers may read it now; the sender hears once the broker role is satisfied.
        this.waiters.wakeAll();
        const answer = (status: SendStatus) =>
          group.forEach((p, i) => {
            const result: AppendResult = status === "SEND_OK" ? results[i]! : { ...results[i]!, sendStatus: status };
            const first = p.messages[0];
            if (first) this.recent.set(recentKey(first), result);
            p.resolve(result);
          });
        const links = this.slaveLinks();
        const config = readConfig(this.env);
        if (config.brokerRole === "SYNC_MASTER" && this.identity) {
          // Not awaited: the next group is written while this one waits for a slave, and
          // the next push carries both. No slave at all is SLAVE_NOT_AVAILABLE, as in RocketMQ.
          const target = this.log.maxOffset;
          void this.replicator
            .syncUpTo(links, this.identity, target, config.syncFlushSlaveTimeoutMs)
            .then(answer, () => answer("SLAVE_NOT_AVAILABLE"))
            .then(() => (this.replicator.behind(links) ? this.scheduleReplication() : undefined)) // offsets, or a slave left behind
            .catch((e: unknown) => console.warn(`replication scheduling failed: ${String(e)}`));
        } else {
          answer("SEND_OK");
          await this.scheduleReplication();
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

function takeGroup(pending: PendingAppend[]): PendingAppend[] {
  if (pending[0]?.alone) return pending.splice(0, 1);
  let bytes = 0;
  let n = 0;
  while (n < pending.length) {
    const next = pending[n]!;
    if (n > 0 && next.alone) break;
    const size = next.messages.reduce((s, m) => s + storedSize(m), 0);
    if (n > 0 && bytes + size > GROUP_COMMIT_MAX_BYTES) break;
    bytes += size;
    n++;
  }
  return pending.splice(0, n);
}

function withoutTransactionProps(properties: Record<string, string>): Record<string, string> {
  const { [TransactionProps.TRAN_MSG]: _t, [TransactionProps.PGROUP]: _g, ...rest } = properties;
  return rest;
}

/** A retry of the same delivery attempt shares msgId and reconsumeTimes; a redelivery does not. */
function recentKey(m: StoredMessage): string {
  return `${m.msgId}#${m.reconsumeTimes}`;
}
