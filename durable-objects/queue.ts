/**
 * Queue: one Durable Object per (broker, topic, queueId), RocketMQ's ConsumeQueue and CommitLog
 * of one queue. It owns the queue's commit log, the consume offsets of every group on it, its
 * delayed and half messages, and the long-poll pulls parked on it; a master's queue replicates
 * to its slaves' queues.
 *
 * This file is the RPC surface the Worker and the other objects call (through cluster/stubs.ts)
 * and the wiring. Each concept is a piece in queue/ that takes only what it needs:
 * - group-commit.ts: appends, many sends per row, answered once durable
 * - long-poll.ts, pull.ts: pulls, answered at once; waiting callers park a hibernatable socket
 *   (shared/wake-sockets.ts) that an append wakes, while the Worker holds the wait
 * - consume-offsets.ts: commits, fetches, resets, progress; owners.ts: rebalance fencing
 * - delayed-delivery.ts, delayed-store.ts: delayed messages, held until due
 * - transactions.ts, transaction-check.ts, half-store.ts: half messages, decisions, check-back
 * - master-replication.ts, replicator.ts, replica.ts: master → slave replication
 * - alarm.ts, alarm-plan.ts, alarm-steps.ts, retention.ts: the one alarm, when it fires, what it runs
 * - commit-log.ts, identity.ts, schema.ts: storage, which queue this is, migrations
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../cluster/config.js";
import type { Env } from "../cluster/env.js";
import { toRpcError } from "../cluster/rpc-errors.js";
import { producerGroupStub, slaveReplicateCall } from "../cluster/stubs.js";
import { Limits } from "../protocol/limits.js";
import type { MemberFence } from "../protocol/consumer.js";
import type { MessageQueue, QueueStats, StoredMessage } from "../protocol/message.js";
import type { EndTransactionResult, LocalTransactionState, TransactionCheck } from "../protocol/transaction.js";
import { QueueAlarm } from "./queue/alarm.js";
import { CommitLog, type LogEntry } from "./queue/commit-log.js";
import { ConsumeOffsets, type ConsumeOffset, type QueueProgressRaw } from "./queue/consume-offsets.js";
import { DelayedDelivery } from "./queue/delayed-delivery.js";
import { DelayedStore, type DelayedStats } from "./queue/delayed-store.js";
import { GroupCommit, type AppendEachResult, type AppendResult } from "./queue/group-commit.js";
import { HalfStore, type HalfInfo, type HalfState } from "./queue/half-store.js";
import { QueueIdentity } from "./queue/identity.js";
import { LongPoll, type PullRequest } from "./queue/long-poll.js";
import { MasterReplication, type ReplicationStatus } from "./queue/master-replication.js";
import { Owners } from "./queue/owners.js";
import type { PullOutcome } from "./queue/pull.js";
import { Replica } from "./queue/replica.js";
import type { OffsetReader, ReplicaAck, ReplicaBatch } from "./queue/replicator.js";
import { MAX_EXPIRED_ROWS_PER_CALL, expireRows, retentionDueAt } from "./queue/retention.js";
import { migrate } from "./queue/schema.js";
import { TransactionCheckBack } from "./queue/transaction-check.js";
import { Transactions } from "./queue/transactions.js";
import { closeParked, WakeSockets } from "./shared/wake-sockets.js";
import { trackActivity } from "./shared/activity.js";

export type { AppendEachResult, AppendResult, ConsumeOffset, PullRequest, QueueProgressRaw, ReplicationStatus };

/** Query by key returns at most this many per queue (RocketMQ's maxMsgsNumBatch). */
const QUERY_MAX_PER_QUEUE = 64;
/** Messages a msgId lookup reads at most in one queue. */
const MSGID_MAX_SCAN = 20_000;

export class QueueDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Callers waiting for this queue to move (the Worker holds their long polls). */
  private readonly waiters: WakeSockets;
  // Built once the schema is migrated (under blockConcurrencyWhile, before any call). The
  // stores are fields so object tests can seed them directly.
  private log!: CommitLog;
  private delayed!: DelayedStore;
  private half!: HalfStore;
  private owners!: Owners;
  private identity!: QueueIdentity;
  private offsets!: ConsumeOffsets;
  private replication!: MasterReplication;
  private commits!: GroupCommit;
  private longPoll!: LongPoll;
  private delivery!: DelayedDelivery;
  private transactions!: Transactions;
  private replica!: Replica;
  private alarms!: QueueAlarm;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.waiters = new WakeSockets(ctx, { holder: "this queue", waiters: "parked pulls" });
    void ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql);
      this.wire();
      // Self-healing: due work with no alarm (an alarm lost to a crash) gets one again.
      await this.alarms.start();
    });
  }

  /** Builds the pieces. Config is read on every use, so each piece sees the current env. */
  private wire(): void {
    const storage = this.ctx.storage;
    const now = () => Date.now();
    const config = () => readConfig(this.env);
    const armAlarm = () => this.alarms.arm();
    const reservedMs = () => config().fileReservedTimeMs;
    const log = (this.log = new CommitLog(this.sql, storage));
    const delayed = (this.delayed = new DelayedStore(this.sql));
    const half = (this.half = new HalfStore(this.sql));
    const owners = (this.owners = new Owners(this.sql));
    const identity = (this.identity = new QueueIdentity(this.sql, now));
    const offsets = (this.offsets = new ConsumeOffsets(this.sql, log, owners, now));
    const readOffsets: OffsetReader = (page, limit) => offsets.read(page, limit);
    const slaveCall = (mq: MessageQueue, brokerId: number) => slaveReplicateCall(this.env, mq, brokerId);
    const replication = (this.replication = new MasterReplication({ log, identity, readOffsets, slaveCall, config, armAlarm, now }));
    // A durable group commit: retention's alarm (only ever earlier), then parked pulls may read it.
    const stored = async () => {
      await this.alarms.moveEarlier(retentionDueAt(log, reservedMs()));
      this.waiters.wake();
    };
    this.commits = new GroupCommit({ log, now, stored, sync: () => storage.sync(), confirm: (answer) => replication.confirm(answer) });
    this.longPoll = new LongPoll({ log, owners });
    // Whatever reaches the log wakes parked pulls and is pushed to the slaves.
    const delivered = (at: number) => {
      this.waiters.wake();
      replication.markDue(at);
    };
    const committed = async () => {
      this.waiters.wake();
      await replication.schedule();
    };
    this.delivery = new DelayedDelivery({ delayed, log, storage, armAlarm, delivered });
    this.transactions = new Transactions({ half, log, identity, storage, now, armAlarm, committed });
    const send = async (group: string, check: TransactionCheck) => {
      await producerGroupStub(this.env, group).enqueueCheck(check);
    };
    const checks = new TransactionCheckBack({ half, identity, storage, config, send });
    const replicated = async () => {
      this.waiters.wake();
      await this.alarms.arm(); // the slave's own retention, as on the master
    };
    this.replica = new Replica({ log, identity, offsets, storage, purge: () => this.purge(), stored: replicated });
    this.alarms = new QueueAlarm({
      storage,
      now,
      queueName: () => identity.name(this.ctx.id.toString()),
      steps: [
        { name: "delayed delivery", dueAt: () => delayed.nextDueAt(), run: (at) => this.delivery.deliverDue(at) },
        { name: "transaction checks", dueAt: () => checks.nextDueAt(), run: (at) => checks.run(at) },
        { name: "forget decided transactions", dueAt: () => this.transactions.forgetDueAt(), run: (at) => this.transactions.forgetDecided(at) },
        // Retention: whole rows older than fileReservedTime go, in bounded chunks.
        { name: "retention", dueAt: () => retentionDueAt(log, reservedMs()), run: (at) => expireRows(log, reservedMs(), at) },
        { name: "replication push", dueAt: () => replication.dueAt, run: () => replication.pushNow(), onlyWhenScheduled: true },
      ],
    });
  }

  /**
   * Stores `messages` with consecutive offsets, all or nothing; resolves once durable.
   * A retry carrying the msgId of a recent append gets that append's result back.
   */
  append(messages: StoredMessage[], options: { dedupe?: boolean; mq?: MessageQueue } = {}): Promise<AppendResult> {
    if (this.identity.brokerId !== 0) return Promise.reject(toRpcError("NO_PERMISSION", "a slave queue takes no appends"));
    if (options.mq) this.identity.remember(options.mq);
    // An admin resend repeats a msgId on purpose; only producer retries are folded.
    return this.commits.append(messages, options.dedupe !== false);
  }

  /**
   * Stores each message on its own (a multi-queue send's independent messages): one result or
   * coded refusal per message, in order, while the group commit still writes them in one row.
   */
  async appendEach(messages: StoredMessage[], options: { mq?: MessageQueue } = {}): Promise<AppendEachResult[]> {
    if (this.identity.brokerId !== 0) throw toRpcError("NO_PERMISSION", "a slave queue takes no appends");
    if (options.mq) this.identity.remember(options.mq);
    return this.commits.appendEach(messages, true);
  }

  /**
   * A master with slaves adds `slaveHolds`: what its first slave holds, while that slave is
   * healthy, so the Worker can suggest it to a consumer far behind without asking again.
   */
  pull(req: PullRequest): PullOutcome & { slaveHolds?: number } {
    const outcome = this.longPoll.pull(req);
    const slaveHolds = this.replication.slaveHolds();
    return slaveHolds === undefined ? outcome : { ...outcome, slaveHolds };
  }

  /**
   * A caller with nothing to read parks here until the queue moves (cluster/wake-wait.ts): a
   * WebSocket upgrade, answered "wake" at once if the queue moved since the caller's read.
   */
  override fetch(request: Request): Response {
    return this.waiters.accept(request, (seen) => this.longPoll.isStale(seen));
  }

  /** The Worker let a parked pull go (its time ran out, or its client left). */
  override webSocketClose(ws: WebSocket, code: number): void {
    closeParked(ws, code);
  }

  /** Records which member of `group` owns this queue (null: nobody); parked pulls re-check. */
  setOwner(group: string, clientId: string | null, generation: number): void {
    this.owners.set(group, clientId, generation);
    this.waiters.wake();
  }

  /** Moves a group's offset to the first message stored at or after `timestamp` (admin reset). */
  resetOffset(group: string, timestamp: number, resetSeq: number): number {
    const offset = this.offsets.reset(group, timestamp, resetSeq);
    void this.replication.offsetChanged(group);
    return offset;
  }

  progress(group: string): QueueProgressRaw {
    return this.offsets.progress(group);
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
    this.offsets.commit(group, offset, fence);
    void this.replication.offsetChanged(group);
  }

  /**
   * A slave's answer while its master is away: only what replication brought. A slave that has
   * never heard from its master knows nothing, and says so rather than guess 0.
   */
  fetchReplicaOffset(group: string): ConsumeOffset {
    if (!this.identity.mq) throw toRpcError("SERVICE_UNAVAILABLE", "this slave has not been replicated to yet");
    return this.offsets.fetch(group);
  }

  /**
   * A commit taken by a slave while its master is away: unfenced (a slave has no owners) and not
   * checked against the slave's maxOffset (the consumer may have read further on the master).
   */
  commitReplicaOffset(group: string, offset: number): void {
    this.offsets.store(group, offset);
  }

  fetchOffset(group: string): ConsumeOffset {
    return this.offsets.fetch(group);
  }

  /**
   * Keeps a message invisible until `dueAt`, then appends it (it gets its offset then, as in
   * RocketMQ). A due time already past appends at once.
   */
  async appendDelayed(mq: MessageQueue, message: StoredMessage, dueAt: number, level: number): Promise<AppendResult | null> {
    if (dueAt <= Date.now()) return this.append([message], { mq });
    this.identity.remember(mq);
    await this.delivery.hold(message, dueAt, level);
    return null;
  }

  delayedStats(): DelayedStats {
    return this.delayed.stats();
  }

  /** Stores a transaction's half message: durable, invisible until committed. Idempotent per msgId. */
  prepareHalf(mq: MessageQueue, message: StoredMessage, producerGroup: string, firstCheckAt: number): Promise<void> {
    return this.transactions.prepare(mq, message, producerGroup, firstCheckAt);
  }

  /** Applies a producer's decision on a transaction (see Transactions.end). */
  endTransaction(transactionId: string, producerGroup: string, decision: LocalTransactionState): Promise<EndTransactionResult> {
    return this.transactions.end(transactionId, producerGroup, decision);
  }

  listTransactions(state: HalfState | undefined, limit: number): HalfInfo[] {
    return this.transactions.list(state, limit);
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
      const n = this.log.truncate({ beforeOffset: offset, maxRows: MAX_EXPIRED_ROWS_PER_CALL });
      removed += n;
      if (n === 0) break;
    }
    if (removed > 0) await this.replication.schedule(); // the slaves drop the same rows
    return removed;
  }

  /** Deletes every message and offset of this queue (its topic was deleted). */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAll();
    migrate(this.sql);
    this.log.reset();
    this.delayed.reset();
    this.commits.forget();
    // A new log: the next epoch is later than this one, so slaves drop what they hold of the
    // old log and refuse late pushes from it. Cursors point into the old log: start afresh.
    this.identity.forget();
    this.alarms.forget();
    this.replication.reset();
    this.owners.clear();
    this.waiters.wake();
  }

  /** Slave side: stores a master's rows and consumer offsets exactly as sent (see replica.ts). */
  replicate(batch: ReplicaBatch): Promise<ReplicaAck> {
    return this.replica.apply(batch);
  }

  /** Master side: where each slave stands (cluster list's replication lag). */
  replicationStatus(): ReplicationStatus {
    return this.replication.status();
  }

  /**
   * Delivers due delayed messages, raises due transaction checks, forgets old decisions,
   * applies retention and pushes to slaves, each step isolated (see queue/alarm.ts).
   */
  override async alarm(): Promise<void> {
    await this.alarms.run();
  }
}

// Calls in progress and time awake, for the idle-cost test and the benchmark (shared/activity.ts);
// the constructor's helpers are not counted.
trackActivity(QueueDO, ["wire"]);
