/**
 * PushConsumer, as RocketMQ's DefaultMQPushConsumer: joins its group, is given queues by the
 * server-side rebalance, long-polls each queue and feeds a listener. This file is the public
 * class (options, subscribe, listener, start/shutdown); the services behind it are in push/:
 * rebalance.ts (assignments and fencing), queue-puller.ts (the pull loops),
 * consume-concurrently.ts and consume-orderly.ts (the listener calls), consume-offsets.ts.
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
import type { ConsumeFromWhere, MessageModel, Subscription } from "../protocol/consumer.js";
import { retryTopic } from "../protocol/consumer.js";
import { MQError } from "../protocol/errors.js";
import { checkGroupName } from "../protocol/names.js";
import type { MessageQueue } from "../protocol/message.js";
import { DEFAULT_MAX_RECONSUME_TIMES } from "../protocol/retry-ladder.js";
import { Semaphore } from "./concurrency.js";
import {
  toMessageListener,
  type ConsumeConcurrentlyContext,
  type ConsumeConcurrentlyFunction,
  type ConsumeConcurrentlyStatus,
  type MessageListener,
} from "./consume-types.js";
import { GroupMember, newClientId } from "./group-member.js";
import { MessageChannel } from "./message-channel.js";
import type { MessageExt } from "./message.js";
import { toSubscription, type MessageSelector } from "./message-selector.js";
import { MemoryOffsetStore, type OffsetStore } from "./offset-store.js";
import { ConsumeConcurrently } from "./push/consume-concurrently.js";
import { ConsumeOffsets } from "./push/consume-offsets.js";
import { clampSuspendMs, ConsumeOrderly, ORDERLY_MAX_RECONSUME_TIMES } from "./push/consume-orderly.js";
import { QueuePuller } from "./push/queue-puller.js";
import type { QueueTask } from "./push/queue-task.js";
import { PushRebalance } from "./push/rebalance.js";
import { RouteCache } from "./routes.js";
import { Transport, type ClientOptions } from "./transport.js";
import { QueueChannels, type ChannelStats } from "./queue-channels.js";
import { PULL_CHANNEL_SEGMENT } from "../protocol/pull-channel.js";

export interface PushConsumerOptions extends ClientOptions {
  group: string;
  /**
   * Told of what the consumer recovers from on its own: a listener that threw, a pull or a
   * heartbeat that failed. Default: one console.warn line each. `start()` itself throws when the
   * server cannot be reached at all.
   */
  onError?: (error: unknown, where: string) => void;
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
  /**
   * Pulls travel over a pull channel per queue (a WebSocket to the queue's master object,
   * client/queue-channels.ts) once one is open, instead of an HTTP long poll each; a pull that
   * waits is answered with its messages. Node (with the `ws` package) and Workers; default true.
   */
  pullChannels?: boolean;
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

export class PushConsumer {
  readonly group: string;
  readonly clientId: string;
  private readonly model: MessageModel;
  private readonly consumeThreadMax: number;
  private readonly persistConsumerOffsetIntervalMs: number;
  private readonly subscriptions = new Map<string, Subscription>();
  /** Listener-call slots shared by every queue: consumeThreadMax calls at once. */
  private readonly slots: Semaphore;
  private readonly member: GroupMember;
  private readonly rebalance: PushRebalance;
  private readonly offsets: ConsumeOffsets;
  /** Pull channels (pullChannels); undefined when off. */
  private readonly channels: QueueChannels | undefined;
  private readonly concurrently: ConsumeConcurrently;
  private readonly orderly: ConsumeOrderly;
  private listener: MessageListener | undefined;
  private commitTimer: ReturnType<typeof setInterval> | undefined;
  private running = false;

  constructor(options: PushConsumerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.clientId = options.clientId ?? newClientId();
    const transport = new Transport(options);
    this.model = options.messageModel ?? "CLUSTERING";
    this.consumeThreadMax = options.consumeThreadMax ?? 20;
    this.persistConsumerOffsetIntervalMs = options.persistConsumerOffsetIntervalMs ?? 5000;
    const consumeMessageBatchMaxSize = options.consumeMessageBatchMaxSize ?? 1;
    const isRunning = (): boolean => this.running;
    const onError =
      options.onError ??
      ((e: unknown, where: string) => console.warn(`flaremq PushConsumer ${this.group}: ${where}: ${e instanceof Error ? e.message : String(e)}`));
    const listener = (): MessageListener | undefined => this.listener;
    this.slots = new Semaphore(this.consumeThreadMax);
    this.member = new GroupMember(
      transport,
      {
        onError,
        group: this.group,
        clientId: this.clientId,
        messageModel: this.model,
        allocateStrategy: options.allocateStrategy,
        zone: options.zone,
        configuredQueues: options.configuredQueues,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 30_000,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 120_000,
      },
      () => [...this.subscriptions.values()],
      (r) => this.rebalance.onAssignment(r),
      () => this.rebalance.heldQueues(),
    );
    this.offsets = new ConsumeOffsets({
      transport,
      group: this.group,
      model: this.model,
      offsetStore: options.offsetStore ?? new MemoryOffsetStore(),
      consumeFromWhere: options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET",
      consumeTimestampMs: options.consumeTimestampMs ?? Date.now() - 30 * 60_000,
      fence: () => this.rebalance.fence(),
      onFenceRefused: () => void this.member.beatSoon(),
    });
    this.concurrently = new ConsumeConcurrently({
      onError,
      transport,
      group: this.group,
      model: this.model,
      consumeMessageBatchMaxSize,
      maxReconsumeTimes: options.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES,
      slots: this.slots,
      listener,
      isRunning,
    });
    this.orderly = new ConsumeOrderly({
      onError,
      transport,
      group: this.group,
      consumeMessageBatchMaxSize,
      suspendCurrentQueueTimeMillis: clampSuspendMs(options.suspendCurrentQueueTimeMillis ?? 1000),
      maxReconsumeTimes: options.maxReconsumeTimes ?? ORDERLY_MAX_RECONSUME_TIMES,
      slots: this.slots,
      listener,
      isRunning,
    });
    this.channels = options.pullChannels === false ? undefined : new QueueChannels(transport, PULL_CHANNEL_SEGMENT);
    const puller = new QueuePuller({
      onError,
      transport,
      channels: this.channels,
      group: this.group,
      pullBatchSize: options.pullBatchSize ?? 32,
      pullThresholdForQueue: options.pullThresholdForQueue ?? 1000,
      pollMaxWaitMs: options.pollMaxWaitMs ?? 15_000,
      pullRetryDelayMs: options.pullRetryDelayMs ?? 3000,
      startOffset: (task) => this.offsets.startOffset(task.mq),
      commit: (task) => this.offsets.commit(task),
      fence: () => this.rebalance.fence(),
      consume: (task, messages) => this.dispatch(task, messages),
      onNotOwner: (task) => this.rebalance.onNotOwner(task),
    });
    this.rebalance = new PushRebalance({
      clientId: this.clientId,
      model: this.model,
      subscriptions: this.subscriptions,
      routes: new RouteCache(transport, 30_000),
      member: this.member,
      isRunning,
      pull: (task) => puller.run(task),
      commit: (task) => this.offsets.commit(task),
    });
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

  /** Pull channels opened (each one upgrade request) and pull frames sent over them (pullChannels). */
  get pullChannelStats(): ChannelStats {
    return { ...(this.channels?.stats ?? { opened: 0, frames: 0 }) };
  }

  /** Queues this member is reading now. */
  get assignedQueues(): MessageQueue[] {
    return this.rebalance.assignedQueues;
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
    this.commitTimer = setInterval(() => void this.offsets.commitAll(this.rebalance.activeTasks), this.persistConsumerOffsetIntervalMs);
  }

  /** Stops pulling, lets running listeners finish, commits offsets and leaves the group. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.rebalance.settled();
    await this.rebalance.stopPulling();
    await this.drainListeners();
    await this.offsets.commitAll(this.rebalance.activeTasks);
    await this.member.stop(true);
    this.rebalance.clear();
    this.channels?.shutdown();
    await this.offsets.persist();
  }

  /** Hands pulled messages to the consume service of the listener's kind. */
  private async dispatch(task: QueueTask, messages: MessageExt[]): Promise<void> {
    if (this.listener?.orderly) {
      this.orderly.dispatch(task);
      return;
    }
    await this.concurrently.dispatch(task, messages);
  }

  private async drainListeners(): Promise<void> {
    // Every slot free means no listener call is running.
    for (let i = 0; i < this.consumeThreadMax; i++) await this.slots.acquire();
    for (let i = 0; i < this.consumeThreadMax; i++) this.slots.release();
  }
}
