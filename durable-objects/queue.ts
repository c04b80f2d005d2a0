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
 * - pop.ts, pop-state.ts: POP consumption (SimpleConsumer): receive, ack, change invisibility
 * - push-delivery.ts, push-plan.ts, push-targets.ts: push subscriptions, delivered from the alarm
 * - delayed-delivery.ts, delayed-store.ts: delayed messages, held until due
 * - transactions.ts, transaction-check.ts, half-store.ts: half messages, decisions, check-back
 * - master-replication.ts, replicator.ts, replica.ts: master → slave replication
 * - alarm.ts, alarm-plan.ts, alarm-steps.ts, retention.ts: the one alarm, when it fires, what it runs
 * - commit-log.ts, identity.ts, schema.ts: storage, which queue this is, migrations
 *
 * Over ~350 lines because it is the whole RPC surface of the queue, one thin method per call
 * with the comment its callers read; the work is in the pieces.
 */
import { DurableObject } from "cloudflare:workers";
import { pushBindingAllowed, readConfig } from "../cluster/config.js";
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
import { appendPushDeadLetters } from "./queue/push-dead-letters.js";
import { PushDelivery, type PushQueueStatus } from "./queue/push-delivery.js";
import type { PushSubscriptionConfig } from "../protocol/push-subscription.js";
import { Pop, type PopHandle, type PopSeen, type PopReceiveRequest, type PopReceiveResult } from "./queue/pop.js";
import type { HandleOutcome } from "./queue/pop-state.js";
import type { PullOutcome } from "./queue/pull.js";
import { Replica } from "./queue/replica.js";
import type { OffsetReader, ReplicaAck, ReplicaBatch } from "./queue/replicator.js";
import { MAX_EXPIRED_ROWS_PER_CALL, expireRows, retentionDueAt } from "./queue/retention.js";
import { migrate } from "./queue/schema.js";
import { TransactionCheckBack } from "./queue/transaction-check.js";
import { Transactions } from "./queue/transactions.js";
import { closeParked, WakeSockets } from "./shared/wake-sockets.js";
import { CHANNEL_PATHS, ChannelSockets } from "./queue/channel-sockets.js";
import { SendFrames } from "./queue/send-frames.js";
import { PullFrames } from "./queue/pull-frames.js";
import { suggestBrokerId } from "../cluster/slave-read.js";
import { trackActivity } from "./shared/activity.js";

/** Groups one queue's metrics list at most. */
const METRICS_MAX_GROUPS = 1000;

export interface QueueMetrics {
  brokerId: number;
  minOffset: number;
  maxOffset: number;
  storageBytes: number;
  parkedWaiters: number;
  /** Send and pull channels open now, and the messages send channels stored by SendStatus since the object started. */
  sendChannels: number;
  pullChannels: number;
  channelSends: Record<string, number>;
  delayedMessages: number;
  halfMessagesPending: number;
  /** Consumer offset per group (a POP group's cursor, with its messages in flight). */
  groups: { group: string; offset: number; inflight: number }[];
  slaves: { brokerId: number; lagMessages: number | null }[];
}

export type {
  AppendEachResult,
  AppendResult,
  ConsumeOffset,
  HandleOutcome,
  PopHandle,
  PopReceiveRequest,
  PopReceiveResult,
  PullRequest,
  PushQueueStatus,
  QueueProgressRaw,
  ReplicationStatus,
};

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
  private pop!: Pop;
  private push!: PushDelivery;
  /** Producers' send channels and consumers' pull channels (channel-sockets.ts). */
  private readonly channels: ChannelSockets;
  private readonly sendFrames: SendFrames;
  private readonly pullFrames: PullFrames;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.waiters = new WakeSockets(ctx, { holder: "this queue", waiters: "parked pulls" });
    const now = () => Date.now();
    this.channels = new ChannelSockets({ ctx, now });
    this.sendFrames = new SendFrames(this.channels, { appendEach: (messages, mq) => this.appendEach(messages, { mq }), now });
    this.pullFrames = new PullFrames(this.channels, { pull: (req) => this.pull(req), suggest: (o) => suggestBrokerId(readConfig(this.env), 0, o), now });
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
    const pop = (this.pop = new Pop({
      sql: this.sql,
      log,
      usesOffsets: (group) => offsets.fetch(group).committed,
      delayLevelsMs: () => config().delayLevelsMs,
      now,
    }));
    const push = (this.push = new PushDelivery({
      sql: this.sql,
      log,
      committed: (group) => {
        const o = offsets.fetch(group);
        return o.committed ? o.offset : null;
      },
      commit: (group, offset) => {
        offsets.store(group, offset);
        void this.replication.offsetChanged(group);
      },
      usesPop: (group) => pop.has(group),
      queue: () => identity.mq,
      target: () => ({
        bindings: this.env as unknown as Record<string, unknown>,
        bindingAllowed: (binding, group) => pushBindingAllowed(config(), binding, group),
        allowLoopbackHttp: config().pushLoopbackWebhooks,
        now,
      }),
      delayLevelsMs: () => config().delayLevelsMs,
      rearm: () => this.alarms.arm(),
      deadLetter: (group, from, dead, maxRetries) => appendPushDeadLetters(this.env, group, from, dead, maxRetries),
      now,
    }));
    const readOffsets: OffsetReader = (page, limit) => offsets.read(page, limit);
    const slaveCall = (mq: MessageQueue, brokerId: number) => slaveReplicateCall(this.env, mq, brokerId);
    const replication = (this.replication = new MasterReplication({
      log,
      identity,
      readOffsets,
      slaveCall,
      config,
      alarmBy: (at) => this.alarms.moveEarlier(at),
      now,
    }));
    // A durable group commit: retention's alarm (only ever earlier), then parked pulls may read it.
    const stored = async () => {
      await this.alarms.moveEarlier(retentionDueAt(log, reservedMs()));
      // Push subscriptions deliver from the alarm: the append may have made a batch due.
      await this.alarms.moveEarlier(push.nextDueAt());
      this.wakePulls();
    };
    this.commits = new GroupCommit({ log, now, stored, sync: () => storage.sync(), confirm: (answer) => replication.confirm(answer) });
    this.longPoll = new LongPoll({ log, owners });
    // Whatever reaches the log wakes parked pulls and is pushed to the slaves.
    const delivered = (at: number) => {
      this.wakePulls();
      replication.markDue(at);
    };
    const committed = async () => {
      this.wakePulls();
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
      await this.alarms.moveEarlier(retentionDueAt(log, reservedMs())); // the slave's own retention, as on the master
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
        { name: "replication push", dueAt: () => replication.dueAt, run: async () => void (await replication.pushNow()), onlyWhenScheduled: true },
        // POP: held messages whose invisibility ran out are visible again; parked receivers read.
        { name: "pop visibility", dueAt: () => pop.nextDueAt(), run: (at) => (pop.wakeDue(at) ? this.waiters.wake() : undefined) },
        // Push subscriptions: due batches go to their targets (bounded calls; last, as the slowest step).
        { name: "push delivery", dueAt: () => push.nextDueAt(), run: (at) => push.runDue(at) },
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
    if (req.group !== undefined && this.push.has(req.group)) throw pushOwned(req.group);
    const outcome = this.longPoll.pull(req);
    const slaveHolds = this.replication.slaveHolds();
    return slaveHolds === undefined ? outcome : { ...outcome, slaveHolds };
  }

  /**
   * A caller with nothing to read parks here until the queue moves (cluster/wake-wait.ts): a
   * WebSocket upgrade, answered "wake" at once if the queue moved since the caller's read.
   */
  override fetch(request: Request): Response {
    const path = new URL(request.url).pathname;
    if (path === CHANNEL_PATHS.send) return this.channels.accept(request, "send");
    if (path === CHANNEL_PATHS.pull) return this.channels.accept(request, "pull");
    // A parked POP receive (its seen carries `pop`) also reads again once the group's in-flight messages changed.
    const popSeen = (seen: unknown) => (seen as { pop?: PopSeen } | null)?.pop;
    return this.waiters.accept(request, (seen) => {
      const pop = popSeen(seen);
      return this.longPoll.isStale(seen) || (typeof pop?.group === "string" && this.pop.isStale(pop));
    });
  }

  /** A send or pull channel's frame (the Worker's parked pulls send nothing). */
  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const kind = this.channels.kindOf(ws);
    if (kind) this.channels.framesReceived++;
    if (kind === "send") await this.sendFrames.onFrame(ws, data);
    else if (kind === "pull") this.pullFrames.onFrame(ws, data);
  }

  /** The Worker let a parked pull go (its time ran out, or its client left), or a client closed its channel. */
  override webSocketClose(ws: WebSocket, code: number): void {
    closeParked(ws, code);
  }

  /** The topic's route changed: every channel ends, so the next frames go through a new upgrade. */
  endChannels(): number {
    return this.channels.closeAll();
  }

  /** Parked pulls read again: the Worker's held ones (their sockets woken) and the pull channels' (answered here). */
  private wakePulls(): void {
    this.waiters.wake();
    this.pullFrames.wake();
  }

  /** Records which member of `group` owns this queue (null: nobody); parked pulls re-check. */
  setOwner(group: string, clientId: string | null, generation: number): void {
    this.owners.set(group, clientId, generation);
    this.wakePulls();
  }

  /** Moves a group's offset to the first message stored at or after `timestamp` (admin reset). */
  resetOffset(group: string, timestamp: number, resetSeq: number): number {
    const offset = this.offsets.reset(group, timestamp, resetSeq);
    void this.replication.offsetChanged(group);
    return offset;
  }

  progress(group: string): QueueProgressRaw {
    const offsets = this.offsets.progress(group);
    const pop = this.pop.progress(group);
    return pop ? { ...offsets, committed: pop.cursor, inflight: pop.inflight } : offsets;
  }

  getMessage(queueOffset: number): LogEntry | null {
    return this.log.get(queueOffset) ?? null;
  }

  stats(): QueueStats & {
    rowsWritten: number;
    popRowsWritten: number;
    messagesAppended: number;
    parkedPulls: number;
    sendChannels: number;
    pullChannels: number;
    channelFrames: number;
  } {
    return {
      minOffset: this.log.minOffset,
      maxOffset: this.log.maxOffset,
      lastStoreTimestamp: this.log.lastStoreTimestamp,
      storageBytes: this.ctx.storage.sql.databaseSize,
      rowsWritten: this.log.rowsWritten,
      popRowsWritten: this.pop.rowsWritten,
      messagesAppended: this.log.messagesAppended,
      parkedPulls: this.waiters.size,
      sendChannels: this.channels.size("send"),
      pullChannels: this.channels.size("pull"),
      channelFrames: this.channels.framesReceived,
    };
  }

  searchOffset(timestamp: number): number {
    return this.log.searchOffset(timestamp);
  }

  /** Commits a consume offset; a member's commit is refused if it is not the owner or missed a reset. */
  commitOffset(group: string, offset: number, fence?: MemberFence): void {
    if (this.push.has(group)) throw pushOwned(group);
    if (this.pop.has(group)) {
      throw toRpcError("CONSUME_MODE_MISMATCH", `group "${group}" consumes this queue by POP (SimpleConsumer); it cannot commit offsets`);
    }
    this.offsets.commit(group, offset, fence);
    void this.replication.offsetChanged(group);
  }

  /**
   * POP receive (SimpleConsumer): up to maxNum visible messages for `group`, each invisible to
   * the group until its invisibleUntil, in one row written, which also holds the acks the
   * request carried (`req.ack`). The Worker makes the receipt handles (protocol/receipt-handle.ts)
   * from the nonces, and holds the long poll.
   */
  async popReceive(group: string, req: PopReceiveRequest): Promise<PopReceiveResult> {
    if (this.identity.brokerId !== 0) throw toRpcError("NO_PERMISSION", "a slave queue hands out no POP messages");
    if (this.push.has(group)) throw pushOwned(group);
    const result = this.pop.receive(group, req);
    // Acks that came with the receive free places as popAck's do: parked receivers read again.
    if (result.ackOutcomes?.includes("OK")) this.waiters.wake();
    // This group's next visibility may be the queue's earliest: the alarm only ever needs to move earlier for it.
    await this.alarms.moveEarlier(result.pop.dueAt);
    return result;
  }

  /** Acks POP handles of this queue, one outcome each, in one row written. */
  popAck(group: string, handles: PopHandle[]): HandleOutcome[] {
    const outcomes = this.pop.ack(group, handles);
    // An orderly group's next message may now go out: parked receivers read again.
    if (outcomes.includes("OK")) this.waiters.wake();
    return outcomes;
  }

  /** A held POP message's new invisible duration (from now); a new nonce replaces the handle. */
  async popChangeInvisible(
    group: string,
    handle: PopHandle,
    invisibleDurationMs: number,
  ): Promise<{ outcome: HandleOutcome; nonce?: number; invisibleUntil?: number }> {
    const result = this.pop.changeInvisible(group, handle, invisibleDurationMs);
    if (result.outcome === "OK") await this.alarms.arm();
    return result;
  }

  /**
   * Applies a push subscription's settings on this queue (create, change, pause, resume; an
   * older version than held is ignored) and arms the alarm for what it may deliver now.
   */
  async setPushSubscription(config: PushSubscriptionConfig, mq: MessageQueue): Promise<void> {
    if (this.identity.brokerId !== 0) throw toRpcError("NO_PERMISSION", "a slave queue delivers no push subscription");
    this.identity.remember(mq);
    this.push.set(config);
    await this.alarms.arm();
  }

  /** Removes a push subscription from this queue (the group's offset stays). */
  removePushSubscription(group: string): void {
    this.push.remove(group);
  }

  /** Where a push subscription stands on this queue, with the queue's progress; null when it has none here. */
  pushStatus(group: string): (PushQueueStatus & QueueProgressRaw) | null {
    const status = this.push.status(group);
    return status && { ...status, ...this.offsets.progress(group) };
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
    // Channels first: a frame after the purge must not land in the emptied log.
    this.channels.closeAll();
    await this.ctx.storage.deleteAll();
    migrate(this.sql);
    this.log.reset();
    this.delayed.reset();
    this.commits.forget();
    // A new log: the next epoch is later than this one, so slaves drop what they hold of the
    // old log and refuse late pushes from it. Cursors point into the old log: start afresh.
    this.identity.forget();
    this.alarms.forget();
    this.push.forget();
    this.replication.reset();
    this.owners.clear();
    this.offsets.forget();
    this.pop.forget();
    this.wakePulls();
  }

  /** Slave side: stores a master's rows and consumer offsets exactly as sent (see replica.ts). */
  replicate(batch: ReplicaBatch): Promise<ReplicaAck> {
    return this.replica.apply(batch);
  }

  /**
   * What GET /metrics reports of this queue (workers/metrics/): offsets, storage, parked waiters,
   * delayed and half messages waiting, every group's consumer offset (and a POP group's in-flight
   * count), and each slave's lag (a slave not heard from since start is asked first). Reads
   * only; bounded to METRICS_MAX_GROUPS groups.
   */
  async metrics(): Promise<QueueMetrics> {
    // First, so the offsets below are read after the slaves answered and match their lag.
    const slaves =
      this.identity.brokerId === 0 ? (await this.replication.statusNow()).slaves.map((s) => ({ brokerId: s.brokerId, lagMessages: s.lagMessages })) : [];
    const count = (sql: string) => this.ctx.storage.sql.exec<{ n: number }>(sql).toArray()[0]?.n ?? 0;
    const offsets = this.offsets.read({ after: "" }, METRICS_MAX_GROUPS).map((o) => ({ group: o.group, offset: o.offset, inflight: 0 }));
    const pops = this.pop.allProgress(METRICS_MAX_GROUPS).map((p) => ({ group: p.group, offset: p.cursor, inflight: p.inflight }));
    return {
      brokerId: this.identity.brokerId,
      minOffset: this.log.minOffset,
      maxOffset: this.log.maxOffset,
      storageBytes: this.ctx.storage.sql.databaseSize,
      parkedWaiters: this.waiters.size,
      sendChannels: this.channels.size("send"),
      pullChannels: this.channels.size("pull"),
      channelSends: { ...this.sendFrames.sendsByStatus },
      delayedMessages: count("SELECT COUNT(*) AS n FROM delayed"),
      halfMessagesPending: count("SELECT COUNT(*) AS n FROM half WHERE state = 'PENDING'"),
      groups: [...offsets, ...pops],
      slaves,
    };
  }

  /** Master side: where each slave stands (cluster list's replication lag), asking a slave not heard from since start. */
  replicationStatus(): Promise<ReplicationStatus> {
    return this.replication.statusNow();
  }

  /**
   * Delivers due delayed messages, raises due transaction checks, forgets old decisions,
   * applies retention and pushes to slaves, each step isolated (see queue/alarm.ts).
   */
  override async alarm(): Promise<void> {
    await this.alarms.run();
  }
}

function pushOwned(group: string): Error {
  return toRpcError("CONSUME_MODE_MISMATCH", `group "${group}" has a push subscription: the server delivers its messages, clients cannot consume it`);
}

// Calls in progress and time awake, for the idle-cost test and the benchmark (shared/activity.ts);
// the constructor's helpers are not counted.
trackActivity(QueueDO, ["wire"]);
