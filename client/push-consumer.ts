/**
 * PushConsumer, as RocketMQ's DefaultMQPushConsumer: joins its group, is given queues by the
 * server-side rebalance, long-polls each queue and feeds a listener.
 *
 * - CLUSTERING: each message goes to one member; offsets live on the broker; a failed message
 *   is sent back and redelivered through `%RETRY%<group>` (subscribed automatically), then
 *   dead-lettered past maxReconsumeTimes. Pulls and commits carry the member's generation, so
 *   after a rebalance the old owner is refused and a queue has one reader.
 * - BROADCASTING: every member reads every queue; offsets live in the client's OffsetStore;
 *   a failed message is dropped, as RocketMQ does.
 * - The committed offset is the smallest offset still being processed, persisted every
 *   `persistConsumerOffsetIntervalMs` and at shutdown.
 */
import type { AllocateStrategyName } from "../protocol/allocate.js";
import type { ConsumeFromWhere, HeartbeatResponse, MemberFence, MessageModel, Subscription } from "../protocol/consumer.js";
import { retryTopic } from "../protocol/consumer.js";
import { isMQError, MQError } from "../protocol/errors.js";
import { checkGroupName } from "../protocol/names.js";
import type { MessageQueue } from "../protocol/message.js";
import { DEFAULT_MAX_RECONSUME_TIMES, nextRetryStep } from "../protocol/retry-ladder.js";
import { Semaphore } from "./concurrency.js";
import {
  toMessageListener,
  type ConsumeConcurrentlyContext,
  type ConsumeConcurrentlyFunction,
  type ConsumeConcurrentlyStatus,
  type ConsumeOrderlyStatus,
  type MessageListener,
} from "./consume-types.js";
import { GroupMember, newClientId } from "./group-member.js";
import { MessageChannel } from "./message-channel.js";
import type { MessageExt } from "./message.js";
import { toSubscription, type MessageSelector } from "./message-selector.js";
import { MemoryOffsetStore, queueKey, type OffsetStore } from "./offset-store.js";
import { ProcessQueue } from "./process-queue.js";
import { commitOffset, fetchOffset, pullMessages, queueOffsets, searchOffset } from "./pull-api.js";
import { readQueues, RouteCache } from "./routes.js";
import { sleep, withTimeout } from "./timing.js";
import { pathSegment, Transport, type ClientOptions } from "./transport.js";

export interface PushConsumerOptions extends ClientOptions {
  group: string;
  /** Default CLUSTERING. */
  messageModel?: MessageModel;
  /** Where a group with no committed offset starts; default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP: epoch ms; default 30 minutes ago. */
  consumeTimestampMs?: number;
  /** Default AVERAGELY (AllocateMessageQueueAveragely). */
  allocateStrategy?: AllocateStrategyName;
  /** Zone (machine room) of this member, for zone-aware allocation. */
  zone?: string;
  /** Listener calls running at once; default 20 (consumeThreadMax). */
  consumeThreadMax?: number;
  /** Messages per listener call; default 1. */
  consumeMessageBatchMaxSize?: number;
  /** Messages per pull; default 32. */
  pullBatchSize?: number;
  /** Pulling of a queue pauses while this many of its messages are unprocessed; default 1000. */
  pullThresholdForQueue?: number;
  /** Broker long-poll hold per pull; default 15000. */
  pollMaxWaitMs?: number;
  /** Pause after a failed pull; default 3000. */
  pullRetryDelayMs?: number;
  /** Retries before the dead-letter queue; default 16 (concurrent), unlimited (orderly). */
  maxReconsumeTimes?: number;
  /** Orderly: pause before retrying suspended messages; default 1000, clamped to 10..30000. */
  suspendCurrentQueueTimeMillis?: number;
  /** How often offsets are committed; default 5000. */
  persistConsumerOffsetIntervalMs?: number;
  /** Default 30000. */
  heartbeatIntervalMs?: number;
  /** The server drops a member silent this long; default 120000 (3000..300000). */
  sessionTimeoutMs?: number;
  /** BROADCASTING offsets; default in memory. Node: FileOffsetStore; browsers: LocalStorageOffsetStore. */
  offsetStore?: OffsetStore;
  /** Default: a fresh unique id. */
  clientId?: string;
  /** CONFIG strategy: the queues this member reads (AllocateMessageQueueByConfig). */
  configuredQueues?: MessageQueue[];
}

interface QueueTask {
  mq: MessageQueue;
  subscription: Subscription;
  pq: ProcessQueue;
  nextOffset: number;
  lastCommitted: number;
  abort: AbortController;
  orderlyRunning: boolean;
  /** Settles when the orderly loop of this queue ends. */
  orderlyDone: Promise<void>;
  /** Listener calls running for this queue, and who waits for them to finish. */
  running: number;
  idle: (() => void)[];
  done: Promise<void>;
}

export class PushConsumer {
  readonly group: string;
  readonly clientId: string;
  private readonly transport: Transport;
  private readonly routes: RouteCache;
  private readonly model: MessageModel;
  private readonly opts: Required<
    Pick<
      PushConsumerOptions,
      | "consumeFromWhere"
      | "consumeThreadMax"
      | "consumeMessageBatchMaxSize"
      | "pullBatchSize"
      | "pullThresholdForQueue"
      | "pollMaxWaitMs"
      | "pullRetryDelayMs"
      | "suspendCurrentQueueTimeMillis"
      | "persistConsumerOffsetIntervalMs"
      | "heartbeatIntervalMs"
      | "sessionTimeoutMs"
    >
  >;
  private readonly consumeTimestampMs: number;
  private readonly maxReconsumeTimes: number | undefined;
  private readonly offsetStore: OffsetStore;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly tasks = new Map<string, QueueTask>();
  private readonly slots: Semaphore;
  private readonly member: GroupMember;
  private readonly pulledFrom = new WeakMap<MessageExt, MessageQueue>();
  /** Queues being let go: still reported as held until their offset is committed. */
  private readonly letting = new Set<QueueTask>();
  private listener: MessageListener | undefined;
  private commitTimer: ReturnType<typeof setInterval> | undefined;
  private resetSeq: number | undefined;
  private running = false;
  private applying: Promise<void> = Promise.resolve();

  constructor(options: PushConsumerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.clientId = options.clientId ?? newClientId();
    this.transport = new Transport(options);
    this.routes = new RouteCache(this.transport, 30_000);
    this.model = options.messageModel ?? "CLUSTERING";
    this.opts = {
      consumeFromWhere: options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET",
      consumeThreadMax: options.consumeThreadMax ?? 20,
      consumeMessageBatchMaxSize: options.consumeMessageBatchMaxSize ?? 1,
      pullBatchSize: options.pullBatchSize ?? 32,
      pullThresholdForQueue: options.pullThresholdForQueue ?? 1000,
      pollMaxWaitMs: options.pollMaxWaitMs ?? 15_000,
      pullRetryDelayMs: options.pullRetryDelayMs ?? 3000,
      suspendCurrentQueueTimeMillis: Math.min(30_000, Math.max(10, options.suspendCurrentQueueTimeMillis ?? 1000)),
      persistConsumerOffsetIntervalMs: options.persistConsumerOffsetIntervalMs ?? 5000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 30_000,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 120_000,
    };
    this.consumeTimestampMs = options.consumeTimestampMs ?? Date.now() - 30 * 60_000;
    this.maxReconsumeTimes = options.maxReconsumeTimes;
    this.offsetStore = options.offsetStore ?? new MemoryOffsetStore();
    this.slots = new Semaphore(this.opts.consumeThreadMax);
    this.member = new GroupMember(
      this.transport,
      {
        group: this.group,
        clientId: this.clientId,
        messageModel: this.model,
        allocateStrategy: options.allocateStrategy,
        zone: options.zone,
        configuredQueues: options.configuredQueues,
        heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
      },
      () => [...this.subscriptions.values()],
      (r) => this.onAssignment(r),
      () => (this.model === "CLUSTERING" ? [...this.assignedQueues, ...[...this.letting].map((t) => t.mq)] : []),
    );
  }

  /** Subscribes to a topic with a tag expression (`*`, `TagA || TagB`) or `MessageSelector.bySql(...)`. */
  subscribe(topic: string, expression: string | MessageSelector = "*"): void {
    this.subscriptions.set(topic, toSubscription(topic, expression));
  }

  unsubscribe(topic: string): void {
    this.subscriptions.delete(topic);
  }

  /**
   * The listener: `concurrently(fn)`, `orderly(fn)`, an object with `consumeMessage`, or a plain
   * function `(msgs, context) => status`, taken as a concurrent listener (see ConsumeConcurrentlyFunction).
   */
  registerMessageListener(listener: MessageListener): void;
  registerMessageListener(listener: ConsumeConcurrentlyFunction): void;
  registerMessageListener(listener: MessageListener | ConsumeConcurrentlyFunction): void {
    this.listener = toMessageListener(listener);
  }

  /**
   * The async-iterator form, instead of a listener: starts the consumer and yields messages
   * one at a time. A message counts as consumed when the loop body finishes and the loop goes on.
   * A throw in the body is a failure, as in a listener: the message goes back for redelivery
   * (retry topic, then dead letters, in CLUSTERING). `break` and `return` give the message in
   * hand back too, since JavaScript cannot tell them from a throw; to stop after a handled
   * message, abort `signal` in the body. Leaving the loop either way shuts the consumer down.
   */
  async *messages(signal?: AbortSignal): AsyncGenerator<MessageExt, void, undefined> {
    const channel = new MessageChannel();
    this.registerMessageListener({
      consumeMessage: async (msgs: MessageExt[], context: ConsumeConcurrentlyContext): Promise<ConsumeConcurrentlyStatus> => {
        for (let i = 0; i < msgs.length; i++) {
          if (await channel.deliver(msgs[i]!)) continue;
          // Messages before this one were consumed; this one and the rest go back.
          context.ackIndex = i - 1;
          return "CONSUME_SUCCESS";
        }
        return "CONSUME_SUCCESS";
      },
    });
    const onAbort = () => channel.close();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) channel.close();
    try {
      await this.start();
      // Leaving this loop early calls channel.return(), which gives back the message in hand.
      for await (const m of channel) yield m;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      await channel.return();
      await this.shutdown();
    }
  }

  /** Queues this member is reading now. */
  get assignedQueues(): MessageQueue[] {
    return [...this.tasks.values()].map((t) => t.mq);
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (!this.listener) throw new MQError("BAD_REQUEST", "register a message listener before start()");
    if (this.subscriptions.size === 0) throw new MQError("BAD_REQUEST", "subscribe to a topic before start()");
    if (this.model === "CLUSTERING") {
      const retry = retryTopic(this.group);
      if (!this.subscriptions.has(retry)) this.subscriptions.set(retry, { topic: retry, expressionType: "TAG", expression: "*" });
    }
    this.running = true;
    try {
      await this.member.start();
    } catch (e) {
      this.running = false;
      throw e;
    }
    this.commitTimer = setInterval(() => void this.commitAll(), this.opts.persistConsumerOffsetIntervalMs);
  }

  /** Stops pulling, lets running listeners finish, commits offsets and leaves the group. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.applying;
    const tasks = [...this.tasks.values()];
    for (const t of tasks) t.abort.abort();
    await Promise.all(tasks.map((t) => t.done));
    await this.drainListeners();
    await this.commitAll();
    await this.member.stop(true);
    this.tasks.clear();
    await this.offsetStore.persist();
  }

  private onAssignment(response: HeartbeatResponse): Promise<void> {
    // Assignments apply one at a time, in the order the heartbeats answered.
    this.applying = this.applying.then(() => this.apply(response)).catch(() => undefined);
    return this.applying;
  }

  private async apply(response: HeartbeatResponse): Promise<void> {
    if (!this.running) return;
    const target = this.model === "CLUSTERING" ? response.assignment : await this.broadcastQueues();
    if (this.resetSeq !== undefined && response.offsetResetSeq !== this.resetSeq) {
      // An admin reset the offsets: restart every queue from the broker's new offsets.
      for (const task of [...this.tasks.values()]) await this.stopTask(task, false);
    }
    this.resetSeq = response.offsetResetSeq;
    const wanted = new Map(target.map((mq) => [queueKey(mq), mq]));
    let released = false;
    for (const [key, task] of [...this.tasks]) {
      if (wanted.has(key)) continue;
      await this.stopTask(task, true);
      released = true;
    }
    for (const [key, mq] of wanted) {
      if (this.tasks.has(key)) continue;
      const subscription = this.subscriptions.get(mq.topic);
      if (subscription) this.startTask(mq, subscription);
    }
    // Tell the group at once which queues were let go, so their hand-over completes.
    if (released) setTimeout(() => void this.member.beatSoon(), 0);
  }

  private async broadcastQueues(): Promise<MessageQueue[]> {
    const out: MessageQueue[] = [];
    for (const s of this.subscriptions.values()) {
      try {
        out.push(...readQueues(s.topic, await this.routes.get(s.topic)));
      } catch {
        // a topic that does not exist yet has no queues to read
      }
    }
    return out;
  }

  private startTask(mq: MessageQueue, subscription: Subscription): void {
    const task: QueueTask = {
      mq,
      subscription,
      pq: new ProcessQueue(),
      nextOffset: -1,
      lastCommitted: -1,
      abort: new AbortController(),
      orderlyRunning: false,
      orderlyDone: Promise.resolve(),
      running: 0,
      idle: [],
      done: Promise.resolve(),
    };
    this.tasks.set(queueKey(mq), task);
    task.done = this.pullLoop(task).catch(() => undefined);
  }

  /**
   * Stops reading a queue. With `commit`, lets the listener calls of this queue finish and
   * commits their offset first: the queue is still this member's at the broker until the
   * member's next heartbeat says it let go, so the commit lands and nothing is redelivered.
   */
  private async stopTask(task: QueueTask, commit: boolean): Promise<void> {
    this.tasks.delete(queueKey(task.mq));
    task.abort.abort();
    if (commit) {
      this.letting.add(task);
      try {
        // Bounded: a listener that hangs must not hold the queue (or this member) forever; past
        // the bound, what finished is committed and the rest is redelivered to the next owner.
        await withTimeout(
          (async () => {
            await task.done;
            await task.orderlyDone;
            while (task.running > 0) await new Promise<void>((resolve) => task.idle.push(resolve));
          })(),
          LET_GO_TIMEOUT_MS,
        ).catch(() => undefined);
        task.pq.dropped = true;
        await this.commitTask(task);
      } finally {
        this.letting.delete(task);
      }
    } else {
      task.pq.dropped = true;
      await task.done;
    }
  }

  private fence(): MemberFence | undefined {
    const current = this.member.current;
    if (this.model !== "CLUSTERING" || !current) return undefined;
    return { clientId: this.clientId, generation: current.generation, offsetResetSeq: current.offsetResetSeq };
  }

  private async startOffset(mq: MessageQueue): Promise<number> {
    const stored =
      this.model === "CLUSTERING" ? await fetchOffset(this.transport, this.group, mq) : ((await this.offsetStore.read(mq)) ?? -1);
    if (stored >= 0) return stored;
    const isRetry = mq.topic.startsWith("%RETRY%");
    const { minOffset, maxOffset } = await queueOffsets(this.transport, mq);
    switch (this.opts.consumeFromWhere) {
      case "CONSUME_FROM_FIRST_OFFSET":
        return minOffset;
      case "CONSUME_FROM_TIMESTAMP":
        return isRetry ? maxOffset : searchOffset(this.transport, mq, this.consumeTimestampMs);
      default:
        return isRetry ? minOffset : maxOffset;
    }
  }

  private async pullLoop(task: QueueTask): Promise<void> {
    const signal = task.abort.signal;
    while (!signal.aborted) {
      try {
        if (task.nextOffset < 0) task.nextOffset = await this.startOffset(task.mq);
        if (task.pq.count >= this.opts.pullThresholdForQueue) {
          await sleep(50, signal);
          continue;
        }
        const fence = this.fence();
        const result = await pullMessages(this.transport, task.mq, {
          offset: task.nextOffset,
          maxNums: this.opts.pullBatchSize,
          expression: task.subscription.expression,
          expressionType: task.subscription.expressionType,
          maxWaitMs: this.opts.pollMaxWaitMs,
          signal,
          ...(fence ? { group: this.group, fence } : {}),
        });
        if (signal.aborted) break;
        task.nextOffset = result.nextBeginOffset;
        if (result.pullStatus === "FOUND") {
          const messages = result.msgFoundList.map((m) => this.forListener(m, task.mq));
          task.pq.add(messages);
          await this.dispatch(task, messages);
        } else if (result.pullStatus === "OFFSET_ILLEGAL") {
          await this.commitTask(task);
        }
      } catch (e) {
        if (signal.aborted) break;
        if (isMQError(e) && e.code === "NOT_QUEUE_OWNER") {
          // The group moved this queue: stop reading it and learn the new assignment.
          this.tasks.delete(queueKey(task.mq));
          task.pq.dropped = true;
          void this.member.beatSoon();
          return;
        }
        await sleep(this.opts.pullRetryDelayMs, signal);
      }
    }
  }

  /** The listener sees a retried message under its original topic, as RocketMQ restores it. */
  private forListener(m: MessageExt, from: MessageQueue): MessageExt {
    const original = m.properties.RETRY_TOPIC;
    const out = original && m.topic.startsWith("%RETRY%") ? { ...m, topic: original } : m;
    this.pulledFrom.set(out, from);
    return out;
  }

  private async dispatch(task: QueueTask, messages: MessageExt[]): Promise<void> {
    if (this.listener?.orderly) {
      if (!task.orderlyRunning) task.orderlyDone = this.consumeOrderly(task);
      return;
    }
    const size = this.opts.consumeMessageBatchMaxSize;
    for (let i = 0; i < messages.length; i += size) {
      // A queue being let go stops handing out messages; the rest stay uncommitted for the next owner.
      if (task.abort.signal.aborted) return;
      const batch = messages.slice(i, i + size);
      // Waiting for a slot here also holds back the next pull: flow control.
      await this.slots.acquire();
      void this.consumeConcurrently(task, batch).finally(() => this.slots.release());
    }
  }

  private async consumeConcurrently(task: QueueTask, messages: MessageExt[]): Promise<void> {
    task.running++;
    try {
      await this.runConcurrently(task, messages);
    } finally {
      if (--task.running === 0) for (const wake of task.idle.splice(0)) wake();
    }
  }

  private async runConcurrently(task: QueueTask, messages: MessageExt[]): Promise<void> {
    const listener = this.listener;
    if (!listener || listener.orderly) return;
    const context: ConsumeConcurrentlyContext = {
      messageQueue: { ...task.mq, topic: messages[0]?.topic ?? task.mq.topic },
      delayLevelWhenNextConsume: 0,
      ackIndex: Number.MAX_SAFE_INTEGER,
    };
    let status: ConsumeConcurrentlyStatus;
    try {
      status = (await listener.consumeMessage(messages, context)) ?? "RECONSUME_LATER";
    } catch {
      status = "RECONSUME_LATER";
    }
    const ackIndex = status === "CONSUME_SUCCESS" ? Math.min(context.ackIndex, messages.length - 1) : -1;
    const failed = messages.slice(ackIndex + 1);
    const done = messages.slice(0, ackIndex + 1);
    if (this.model === "CLUSTERING" && !task.pq.dropped) {
      for (const m of failed) {
        if (await this.sendBack(m, context.delayLevelWhenNextConsume, this.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES)) done.push(m);
        else this.retryLocally(task, m);
      }
    } else {
      done.push(...failed); // BROADCASTING: a failed message is dropped, as in RocketMQ
    }
    task.pq.remove(done);
  }

  /** A send-back that failed: consume the message again here after 5 s (RocketMQ does the same). */
  private retryLocally(task: QueueTask, m: MessageExt): void {
    setTimeout(() => {
      if (task.pq.dropped || !this.running) return;
      const again = { ...m, reconsumeTimes: m.reconsumeTimes + 1 };
      this.pulledFrom.set(again, this.pulledFrom.get(m) ?? task.mq);
      task.pq.remove([m]);
      task.pq.add([again]);
      void this.slots.acquire().then(() => this.consumeConcurrently(task, [again]).finally(() => this.slots.release()));
    }, 5000);
  }

  private async consumeOrderly(task: QueueTask): Promise<void> {
    const listener = this.listener;
    if (!listener?.orderly) return;
    task.orderlyRunning = true;
    const localRetries = new Map<number, number>();
    const max = this.maxReconsumeTimes ?? Number.MAX_SAFE_INTEGER;
    try {
      while (!task.pq.dropped && !task.abort.signal.aborted && this.running && task.pq.count > 0) {
        const batch = task.pq.head(this.opts.consumeMessageBatchMaxSize).map((m) => ({
          ...m,
          reconsumeTimes: m.reconsumeTimes + (localRetries.get(m.queueOffset) ?? 0),
        }));
        const context = { messageQueue: task.mq, suspendCurrentQueueTimeMillis: this.opts.suspendCurrentQueueTimeMillis };
        let status: ConsumeOrderlyStatus;
        await this.slots.acquire();
        try {
          status = (await listener.consumeMessage(batch, context)) ?? "SUSPEND_CURRENT_QUEUE_A_MOMENT";
        } catch {
          status = "SUSPEND_CURRENT_QUEUE_A_MOMENT";
        } finally {
          this.slots.release();
        }
        if (task.pq.dropped) break;
        if (status === "SUCCESS") {
          task.pq.remove(batch);
          continue;
        }
        const exhausted = batch.filter((m) => nextRetryStep({ reconsumeTimes: m.reconsumeTimes, maxReconsumeTimes: max }).destination === "DLQ");
        for (const m of exhausted) {
          // Past maxReconsumeTimes the message goes to the dead-letter queue and the queue moves on.
          this.pulledFrom.set(m, task.mq);
          if (await this.sendBack(m, -1, max)) task.pq.remove([m]);
        }
        for (const m of batch) localRetries.set(m.queueOffset, (localRetries.get(m.queueOffset) ?? 0) + 1);
        await sleep(Math.min(30_000, Math.max(10, context.suspendCurrentQueueTimeMillis)), task.abort.signal);
      }
    } finally {
      task.orderlyRunning = false;
    }
  }

  private async sendBack(m: MessageExt, delayLevel: number, maxReconsumeTimes: number): Promise<boolean> {
    const from = this.pulledFrom.get(m);
    if (!from) return false;
    try {
      await this.transport.request(`/groups/${pathSegment(this.group)}/sendback`, {
        method: "POST",
        body: { messageQueue: from, queueOffset: m.queueOffset, delayLevel, maxReconsumeTimes },
      });
      return true;
    } catch {
      return false;
    }
  }

  private async drainListeners(): Promise<void> {
    // Every slot free means no listener call is running.
    for (let i = 0; i < this.opts.consumeThreadMax; i++) await this.slots.acquire();
    for (let i = 0; i < this.opts.consumeThreadMax; i++) this.slots.release();
  }

  private async commitAll(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((t) => this.commitTask(t)));
    if (this.model === "BROADCASTING") await this.offsetStore.persist().catch(() => undefined);
  }

  private async commitTask(task: QueueTask): Promise<void> {
    if (task.nextOffset < 0) return;
    const offset = task.pq.commitOffset(task.nextOffset);
    if (offset === task.lastCommitted) return;
    if (this.model === "BROADCASTING") {
      this.offsetStore.update(task.mq, offset);
      task.lastCommitted = offset;
      return;
    }
    try {
      await commitOffset(this.transport, this.group, task.mq, offset, this.fence());
      task.lastCommitted = offset;
    } catch (e) {
      if (isMQError(e) && (e.code === "NOT_QUEUE_OWNER" || e.code === "STALE_OFFSET_RESET")) void this.member.beatSoon();
    }
  }
}

/** How long letting go of a queue waits for its listener calls before committing what is done. */
const LET_GO_TIMEOUT_MS = 5000;
