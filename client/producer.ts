/**
 * Producer, as RocketMQ's DefaultMQProducer. Sends resolve once the broker stored the message
 * durably; every attempt of one send carries the same client-generated msgId.
 *
 * - Plain sends pick queues round-robin and, on a retriable failure, retry on another queue
 *   (preferring another broker) within one overall timeout.
 * - Ordered sends (`selector`/`arg` or `shardingKey`) always use the one queue their key maps
 *   to, are serialised per key so sends issued without awaiting keep their order, and retry
 *   only on that queue (the broker drops a retry whose msgId it just stored).
 * - Batches (`send([...])`) are stored all or none with consecutive offsets.
 * - Auto-batching (on by default; auto-batch.ts, produce-accumulator.ts): single sends of one
 *   topic that are ready together travel in one request, each still with its own result, msgId
 *   and retries. Batches, delayed, transactional and oneway sends keep a request of their own.
 * - Outstanding sends are capped (`maxInflightSends`): beyond the cap a send waits for a slot;
 *   nothing is dropped.
 */
import { isMQError, MQError } from "../protocol/errors.js";
import { checkGroupName, checkTopicName } from "../protocol/names.js";
import type { MessageQueue, SendResult } from "../protocol/message.js";
import { createMsgId } from "../protocol/msg-id.js";
import type { MessageIn } from "../protocol/schemas.js";
import { autoBatchLimits, awaitOwn, multiSendRequest, wireBodyBytes, type AutoBatchOptions } from "./auto-batch.js";
import { checkBatch, checkBodySize } from "./batch.js";
import { ProduceAccumulator } from "./produce-accumulator.js";
import { StickyQueues } from "./sticky-queue.js";
import { QueueChannels, type ChannelStats } from "./queue-channels.js";
import { SEND_CHANNEL_SEGMENT } from "../protocol/send-channel.js";
import { KeyedSerializer, Semaphore } from "./concurrency.js";
import { toWireMessage, type Message } from "./message.js";
import { selectMessageQueueByHash, type MessageQueueSelector } from "./queue-selector.js";
import { brokerPath, publishQueues, RouteCache } from "./routes.js";
import { LatencyFaultTolerance, type LatencyFaultOptions } from "./latency-fault.js";
import { Transport, type CallOptions, type ClientOptions } from "./transport.js";

export interface ProducerOptions extends ClientOptions, AutoBatchOptions {
  /** Producer group name. */
  group: string;
  /** Total time budget of one send across its retries; default 3000 (sendMsgTimeout). */
  sendMsgTimeoutMs?: number;
  /** Extra attempts after a failed send; default 2 (retryTimesWhenSendFailed). */
  retryTimesWhenSendFailed?: number;
  /** Extra attempts after a failed callback-form send; default 2 (retryTimesWhenSendAsyncFailed). */
  retryTimesWhenSendAsyncFailed?: number;
  /** Most sends outstanding at once (send, callback send, oneway); more wait for a slot. Default 1000. */
  maxInflightSends?: number;
  /** Route refresh interval; default 30000 (pollNameServerInterval). */
  pollNameServerIntervalMs?: number;
  /** Queues per broker used for a topic that the first send will auto-create; default 4. */
  defaultTopicQueueNums?: number;
  /**
   * Avoid a broker after a slow or failed send, for the time RocketMQ's latency table gives
   * (sendLatencyFaultEnable); default false, as RocketMQ.
   */
  sendLatencyFaultEnable?: boolean;
  /** Tables and clock of the fault avoidance; RocketMQ 4.x's by default. */
  latencyFault?: LatencyFaultOptions;
  /**
   * Auto-batched sends travel over a send channel per queue (a WebSocket to the queue's object,
   * client/queue-channels.ts) once one is open, instead of an HTTP request each: in Node (with the
   * `ws` package) and in Workers. Default true; false keeps every send on HTTP. Browsers always
   * send over HTTP (their WebSocket cannot carry the signed headers).
   */
  sendChannels?: boolean;
}

export interface SendOptions extends CallOptions {
  /** Send to this queue only, in one attempt. */
  messageQueue?: MessageQueue;
  /** Ordered send: the selector maps (queues, message, arg) to a queue, as RocketMQ's MessageQueueSelector. */
  selector?: MessageQueueSelector;
  arg?: unknown;
  /** Ordered send by key: a stable hash of the key picks the queue (RocketMQ's SelectMessageQueueByHash). */
  shardingKey?: string;
  /**
   * Pick a queue round-robin once and retry only there. Used for transaction half messages:
   * a retry on another queue would leave a second half message behind.
   */
  retryOnSameQueue?: boolean;
}

/** RocketMQ's SendCallback. */
export interface SendCallback {
  onSuccess(result: SendResult): void;
  onException(error: unknown): void;
}

/**
 * Answers after which another queue may succeed, with a fresh route: RocketMQ's
 * retryResponseCodes, and a broker the route named that has expired since (RocketMQ's client
 * retries its "broker not exist" exception the same way).
 */
const RETRY_ON_ANOTHER_QUEUE = new Set(["TOPIC_NOT_EXIST", "NO_PERMISSION", "BROKER_NOT_EXIST"]);

type Target = { kind: "fixed"; mq: MessageQueue; attempts: number } | { kind: "roundRobin"; attempts: number };

function isCallback(value: unknown): value is SendCallback {
  return typeof value === "object" && value !== null && typeof (value as SendCallback).onSuccess === "function";
}

export class Producer {
  readonly group: string;
  protected readonly transport: Transport;
  private readonly routes: RouteCache;
  private readonly sendMsgTimeoutMs: number;
  protected readonly retryTimes: number;
  private readonly retryTimesAsync: number;
  private readonly defaultTopicQueueNums: number;
  private readonly inflight: Semaphore;
  private readonly ordered = new KeyedSerializer();
  private readonly onewayPending = new Set<Promise<void>>();
  /** Sends not yet settled (promise and callback forms), which shutdown waits for. */
  private readonly sendsPending = new Set<Promise<unknown>>();
  /** Where every topic's round-robin starts (random, so producers spread), then one counter per topic as RocketMQ's TopicPublishInfo. */
  private readonly sendWhichQueueStart = Math.floor(Math.random() * 1024);
  private readonly sendWhichQueue = new Map<string, number>();
  private readonly faults: LatencyFaultTolerance | undefined;
  /** Auto-batching of single sends; undefined with `autoBatch: false`. */
  private readonly accumulator: ProduceAccumulator | undefined;
  /** Where unkeyed auto-batched sends go (autoBatchStickyQueue): sticky-queue.ts. */
  private readonly sticky: StickyQueues | undefined;
  /** Send channels of auto-batched sends (sendChannels); undefined when off. */
  private readonly channels: QueueChannels | undefined;
  private started = false;

  constructor(options: ProducerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.transport = new Transport(options);
    this.routes = new RouteCache(this.transport, options.pollNameServerIntervalMs ?? 30_000);
    this.sendMsgTimeoutMs = options.sendMsgTimeoutMs ?? 3000;
    this.retryTimes = options.retryTimesWhenSendFailed ?? 2;
    this.retryTimesAsync = options.retryTimesWhenSendAsyncFailed ?? 2;
    this.defaultTopicQueueNums = options.defaultTopicQueueNums ?? 4;
    this.inflight = new Semaphore(Math.max(1, options.maxInflightSends ?? 1000));
    this.faults = options.sendLatencyFaultEnable ? new LatencyFaultTolerance(options.latencyFault) : undefined;
    const limits = autoBatchLimits(options);
    this.channels = limits && options.sendChannels !== false ? new QueueChannels(this.transport, SEND_CHANNEL_SEGMENT) : undefined;
    this.accumulator = limits
      ? new ProduceAccumulator(limits, {
          request: multiSendRequest(this.transport, Date.now, this.channels),
          setTimer: (fn, ms) => setTimeout(fn, ms),
          clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
        })
      : undefined;
    this.sticky = this.accumulator && options.autoBatchStickyQueue !== false ? new StickyQueues(this.accumulator) : undefined;
  }

  async start(): Promise<void> {
    this.started = true;
    this.accumulator?.setHolding(true);
  }

  /**
   * Stops accepting sends, sends what auto-batching holds, and waits for those requests and for
   * oneway sends already handed to the network.
   */
  async shutdown(): Promise<void> {
    this.started = false;
    // Sends still on their way to the accumulator (a route lookup, say) must not wait for a hold.
    this.accumulator?.setHolding(false);
    await Promise.allSettled([...this.onewayPending, ...this.sendsPending]);
    await this.accumulator?.drain();
    this.channels?.shutdown();
  }

  private track<T>(pending: Promise<T>): Promise<T> {
    this.sendsPending.add(pending);
    void pending.then(
      () => this.sendsPending.delete(pending),
      () => this.sendsPending.delete(pending),
    );
    return pending;
  }

  /** Auto-batched requests sent, the messages they carried, and sends waiting for a request (all 0 with `autoBatch: false`). */
  get autoBatchStats(): { requests: number; messages: number; waiting: number } {
    const acc = this.accumulator;
    return acc ? { ...acc.stats, waiting: acc.waitingCount } : { requests: 0, messages: 0, waiting: 0 };
  }

  /** Send channels opened (each one upgrade request) and frames sent over them (sendChannels). */
  get sendChannelStats(): ChannelStats {
    return { ...(this.channels?.stats ?? { opened: 0, frames: 0 }) };
  }

  /** Sends still holding an in-flight slot, and the most held at once. */
  get inflightStats(): { inUse: number; peak: number; max: number } {
    return { inUse: this.inflight.inUse, peak: this.inflight.peak, max: this.inflight.size };
  }

  /**
   * Sends a message (or a batch: an array of one topic) and resolves with its SendResult.
   * With a SendCallback instead, resolves as soon as the send holds an in-flight slot and
   * reports the outcome to the callback (RocketMQ's async send).
   */
  send(message: Message | Message[], options?: SendOptions): Promise<SendResult>;
  send(message: Message | Message[], callback: SendCallback, options?: SendOptions): Promise<void>;
  async send(message: Message | Message[], optionsOrCallback: SendOptions | SendCallback = {}, maybeOptions: SendOptions = {}): Promise<SendResult | void> {
    this.assertStarted();
    if (isCallback(optionsOrCallback)) {
      const callback = optionsOrCallback;
      await this.inflight.acquire();
      void this.track(
        this.dispatch(message, maybeOptions, this.retryTimesAsync, {})
          .then(
            (r) => callback.onSuccess(r),
            (e: unknown) => callback.onException(e),
          )
          // A throw inside the application's callback is not a send failure (RocketMQ ignores it
          // too); left alone it would surface as an unhandled rejection.
          .catch(() => undefined)
          .finally(() => this.inflight.release()),
      );
      return;
    }
    await this.inflight.acquire();
    try {
      return await this.track(this.dispatch(message, optionsOrCallback, this.retryTimes, {}));
    } finally {
      this.inflight.release();
    }
  }

  /**
   * Sends without waiting for the broker: the broker answers before the write is durable, and
   * failures are not reported. As in RocketMQ, a oneway message can be lost.
   */
  async sendOneway(message: Message, options: SendOptions = {}): Promise<void> {
    this.assertStarted();
    await this.inflight.acquire();
    const pending: Promise<void> = this.dispatch(message, options, 0, {}, { oneway: "true" })
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.inflight.release();
        this.onewayPending.delete(pending);
      });
    this.onewayPending.add(pending);
  }

  /** Builds the request for `message` and sends it to the queue its options call for. */
  protected async dispatch(
    message: Message | Message[],
    options: SendOptions,
    retries: number,
    extraBody: Record<string, unknown>,
    query: Record<string, string> = {},
  ): Promise<SendResult> {
    const messages = Array.isArray(message) ? message : [message];
    const first = messages[0];
    if (!first) throw new MQError("MESSAGE_ILLEGAL", "nothing to send");
    checkTopicName(first.topic);
    if (Array.isArray(message)) checkBatch(messages);
    else checkBodySize(first);
    if (options.messageQueue && options.messageQueue.topic !== first.topic) {
      throw new MQError("BAD_REQUEST", "messageQueue.topic differs from message.topic");
    }
    const now = Date.now();
    const body = { messages: messages.map((m) => toWireMessage(m, createMsgId(now), now)), ...extraBody };
    const deadline = now + (options.timeoutMs ?? this.sendMsgTimeoutMs);
    const orderKey = options.shardingKey !== undefined ? `key:${options.shardingKey}` : options.selector ? `arg:${String(options.arg)}` : undefined;
    // One plain message may share a request with others; everything else has its own.
    const batchable =
      this.accumulator !== undefined &&
      !Array.isArray(message) &&
      Object.keys(extraBody).length === 0 &&
      Object.keys(query).length === 0 &&
      !first.delayTimeLevel &&
      first.deliverTimeMs === undefined;
    const run = async (): Promise<SendResult> => {
      const target = await this.target(first, options, retries, deadline);
      return this.attempt(first.topic, body, query, target, deadline, options.signal, batchable ? { body: first.body } : undefined);
    };
    return orderKey === undefined ? run() : this.ordered.run(`${first.topic}\u0000${orderKey}`, run);
  }

  private async target(message: Message, options: SendOptions, retries: number, deadline: number): Promise<Target> {
    if (options.messageQueue) return { kind: "fixed", mq: options.messageQueue, attempts: 1 };
    const call: CallOptions = { timeoutMs: Math.max(1, deadline - Date.now()) };
    if (options.signal) call.signal = options.signal;
    if (options.retryOnSameQueue) {
      return { kind: "fixed", mq: this.pickQueue(message.topic, await this.writeQueues(message.topic, call), undefined), attempts: 1 + retries };
    }
    if (options.selector === undefined && options.shardingKey === undefined) return { kind: "roundRobin", attempts: 1 + retries };
    const queues = await publishQueues(this.routes, message.topic, this.defaultTopicQueueNums, call);
    if (queues.length === 0) throw new MQError("TOPIC_NOT_EXIST", `topic "${message.topic}" has no queues in its route`);
    const mq =
      options.shardingKey !== undefined ? selectMessageQueueByHash(queues, message, options.shardingKey) : options.selector!(queues, message, options.arg);
    if (!queues.some((q) => q.brokerName === mq.brokerName && q.queueId === mq.queueId && q.topic === mq.topic)) {
      throw new MQError("BAD_REQUEST", "the selector returned a queue that is not a write queue of the topic");
    }
    return { kind: "fixed", mq, attempts: 1 + retries };
  }

  private async attempt(
    topic: string,
    body: { messages: MessageIn[] },
    query: Record<string, string>,
    target: Target,
    deadline: number,
    signal: AbortSignal | undefined,
    /** Set when the send may ride an auto-batched request: the message's own body (bytes or text). */
    batch?: { body: Message["body"] },
  ): Promise<SendResult> {
    let lastBroker: string | undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt < target.attempts; attempt++) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      let mq: MessageQueue | undefined;
      const call: CallOptions = { timeoutMs: remainingMs };
      if (signal) call.signal = signal;
      const started = Date.now();
      try {
        mq = target.kind === "fixed" ? target.mq : this.pickQueue(topic, await this.writeQueues(topic, call), lastBroker, batch !== undefined);
        // Nothing awaits between picking the queue and handing the send to the accumulator, so
        // sends issued together find the queue the first of them started filling.
        const result =
          batch && this.accumulator
            ? await awaitOwn(
                this.accumulator.add({
                  mq,
                  message: body.messages[0]!,
                  // The caller's bytes, so a send channel takes them without decoding the base64 again.
                  ...(typeof batch.body === "string" ? {} : { body: batch.body }),
                  bytes: wireBodyBytes(body.messages[0]!),
                  deadline,
                }),
                deadline - Date.now(),
                signal,
              )
            : await this.transport.request<SendResult>(`${brokerPath(mq)}/messages`, {
                ...call,
                timeoutMs: Math.max(1, deadline - Date.now()),
                method: "POST",
                body,
                query,
              });
        this.faults?.update(mq.brokerName, Date.now() - started, false);
        return result;
      } catch (e) {
        lastError = e;
        // Only broker and network failures count against the broker, not bad requests.
        if (mq && isMQError(e) && e.retriable) this.faults?.update(mq.brokerName, Date.now() - started, true);
        if (!isMQError(e) || !(e.retriable || RETRY_ON_ANOTHER_QUEUE.has(e.code)) || e.code === "ABORTED") throw e;
        if (RETRY_ON_ANOTHER_QUEUE.has(e.code)) this.routes.invalidate(topic);
        if (mq) lastBroker = mq.brokerName;
      }
    }
    if (isMQError(lastError) && lastError.code !== "TIMEOUT") throw lastError;
    throw new MQError("TIMEOUT", `send to "${topic}" did not succeed in time`, { cause: lastError });
  }

  /** The topic's next round-robin position: sends to other topics do not move it. */
  private nextQueueIndex(topic: string): number {
    const n = this.sendWhichQueue.get(topic) ?? this.sendWhichQueueStart;
    if (this.sendWhichQueue.size >= 10_000 && !this.sendWhichQueue.has(topic)) this.sendWhichQueue.clear(); // bounded
    this.sendWhichQueue.set(topic, n + 1);
    return n;
  }

  private async writeQueues(topic: string, options: CallOptions): Promise<MessageQueue[]> {
    const queues = await publishQueues(this.routes, topic, this.defaultTopicQueueNums, options);
    if (queues.length === 0) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" has no queues in its route`);
    return queues;
  }

  /**
   * The queue of a send without a selector: for an auto-batched send, the sticky queue while the
   * topic holds sends back, else the least used, ties round-robin (sticky-queue.ts); for any
   * other send, the next queue round-robin.
   */
  private pickQueue(topic: string, queues: readonly MessageQueue[], avoidBroker: string | undefined, batchable = false): MessageQueue {
    if (!batchable || !this.sticky) return this.roundRobin(topic, queues, avoidBroker);
    const faults = this.faults;
    const usable = (mq: MessageQueue) => mq.brokerName !== avoidBroker && (!faults || faults.isAvailable(mq.brokerName));
    const start = this.nextQueueIndex(topic);
    // No usable queue: with the latency fault strategy its least bad broker, else (a retry on
    // the only broker) the least used queue.
    const mq =
      this.sticky.choose(topic, queues, usable, start) ??
      (faults ? this.roundRobin(topic, queues, avoidBroker) : this.sticky.choose(topic, queues, () => true, start)!);
    this.sticky.count(mq);
    return mq;
  }

  /** Round-robin over the write queues, skipping the broker that just failed when possible. */
  private roundRobin(topic: string, queues: readonly MessageQueue[], avoidBroker: string | undefined): MessageQueue {
    const faults = this.faults;
    if (faults) {
      // MQFaultStrategy: the next queue round-robin whose broker is not being avoided...
      for (let i = 0; i < queues.length; i++) {
        const mq = queues[this.nextQueueIndex(topic) % queues.length]!;
        if (faults.isAvailable(mq.brokerName) && mq.brokerName !== avoidBroker) return mq;
      }
      // ...else the least bad broker.
      const best = faults.pickOneAtLeast([...new Set(queues.map((q) => q.brokerName))]);
      const onBest = queues.filter((q) => q.brokerName === best);
      if (onBest.length > 0) return onBest[this.nextQueueIndex(topic) % onBest.length]!;
    }
    for (let i = 0; i < queues.length; i++) {
      const mq = queues[this.nextQueueIndex(topic) % queues.length]!;
      if (mq.brokerName !== avoidBroker) return mq;
    }
    return queues[this.nextQueueIndex(topic) % queues.length]!;
  }

  protected assertStarted(): void {
    if (!this.started) throw new MQError("BAD_REQUEST", "producer is not started; call start() first");
  }
}
