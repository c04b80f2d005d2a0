/**
 * LitePullConsumer, as RocketMQ's DefaultLitePullConsumer: background pulls fill a buffer and
 * the application takes batches with `poll()`. Queues come from the group's rebalance
 * (`subscribe`) or from the application (`assign`). With autoCommit the offsets of what poll
 * returned are committed every `autoCommitIntervalMs`; `commitSync` commits now.
 */
import type { AllocateStrategyName } from "../protocol/allocate.js";
import type { ConsumeFromWhere, HeartbeatResponse, MemberFence, Subscription } from "../protocol/consumer.js";
import { isMQError, MQError } from "../protocol/errors.js";
import { checkGroupName, checkTopicName } from "../protocol/names.js";
import type { MessageQueue } from "../protocol/message.js";
import { GroupMember, newClientId } from "./group-member.js";
import type { MessageExt } from "./message.js";
import { toSubscription, type MessageSelector } from "./message-selector.js";
import { queueKey } from "./offset-store.js";
import { commitOffset, fetchOffset, pullMessages, queueOffsets, searchOffset } from "./pull-api.js";
import { readQueues, RouteCache } from "./routes.js";
import { sleep } from "./timing.js";
import { Transport, type CallOptions, type ClientOptions } from "./transport.js";

export interface LitePullConsumerOptions extends ClientOptions {
  group: string;
  /** Default CONSUME_FROM_LAST_OFFSET. */
  consumeFromWhere?: ConsumeFromWhere;
  consumeTimestampMs?: number;
  allocateStrategy?: AllocateStrategyName;
  /** Default true. */
  autoCommit?: boolean;
  /** Default 5000 (at least 1000). */
  autoCommitIntervalMs?: number;
  /** Messages per pull and most messages one poll returns; default 10. */
  pullBatchSize?: number;
  /** Default timeout of poll(); 5000. */
  pollTimeoutMs?: number;
  /** Buffered messages over all queues before pulling pauses; default 10000. */
  pullThresholdForAll?: number;
  /** Broker long-poll hold per pull; default 20000 (brokerSuspendMaxTimeMillis). */
  brokerSuspendMaxTimeMs?: number;
  heartbeatIntervalMs?: number;
  sessionTimeoutMs?: number;
  clientId?: string;
}

interface Reader {
  mq: MessageQueue;
  subscription: Subscription;
  /** Next offset to pull. */
  pullOffset: number;
  /** One past the last message poll() returned: the offset to commit. */
  consumedOffset: number;
  lastCommitted: number;
  paused: boolean;
  abort: AbortController;
  done: Promise<void>;
  /** Bumped by seek: buffered messages of an older epoch are dropped. */
  epoch: number;
}

interface Buffered {
  reader: Reader;
  epoch: number;
  message: MessageExt;
}

export class LitePullConsumer {
  readonly group: string;
  readonly clientId: string;
  private readonly transport: Transport;
  private readonly routes: RouteCache;
  private readonly options: LitePullConsumerOptions;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly readers = new Map<string, Reader>();
  private buffer: Buffered[] = [];
  private bufferWaiters: (() => void)[] = [];
  private assigned: MessageQueue[] | undefined;
  private member: GroupMember | undefined;
  private commitTimer: ReturnType<typeof setInterval> | undefined;
  private running = false;

  constructor(options: LitePullConsumerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.clientId = options.clientId ?? newClientId();
    this.transport = new Transport(options);
    this.routes = new RouteCache(this.transport, 30_000);
    this.options = options;
  }

  /** The readable queues of a topic (broker, then queueId order), to choose from for `assign`. */
  async fetchMessageQueues(topic: string, options: CallOptions = {}): Promise<MessageQueue[]> {
    checkTopicName(topic);
    this.routes.invalidate(topic);
    return readQueues(topic, await this.routes.get(topic, options));
  }

  subscribe(topic: string, expression: string | MessageSelector = "*"): void {
    if (this.assigned) throw new MQError("BAD_REQUEST", "subscribe and assign cannot be mixed");
    this.subscriptions.set(topic, toSubscription(topic, expression));
  }

  /** Reads exactly these queues, without the group's rebalance. */
  assign(queues: MessageQueue[]): void {
    if (this.subscriptions.size > 0) throw new MQError("BAD_REQUEST", "subscribe and assign cannot be mixed");
    this.assigned = [...queues];
    if (this.running) this.setQueues(this.assigned);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.assigned) {
      this.setQueues(this.assigned);
    } else {
      if (this.subscriptions.size === 0) throw new MQError("BAD_REQUEST", "subscribe or assign before start()");
      this.member = new GroupMember(
        this.transport,
        {
          group: this.group,
          clientId: this.clientId,
          messageModel: "CLUSTERING",
          allocateStrategy: this.options.allocateStrategy,
          zone: undefined,
          heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 30_000,
          sessionTimeoutMs: this.options.sessionTimeoutMs ?? 120_000,
        },
        () => [...this.subscriptions.values()],
        (r) => this.onAssignment(r),
        () => this.assignedQueues,
      );
      await this.member.start();
    }
    if (this.options.autoCommit ?? true) {
      const every = Math.max(1000, this.options.autoCommitIntervalMs ?? 5000);
      this.commitTimer = setInterval(() => void this.commitSync().catch(() => undefined), every);
    }
  }

  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.commitTimer) clearInterval(this.commitTimer);
    const readers = [...this.readers.values()];
    for (const r of readers) r.abort.abort();
    await Promise.all(readers.map((r) => r.done));
    if (this.options.autoCommit ?? true) await this.commitSync().catch(() => undefined);
    await this.member?.stop(true);
    this.readers.clear();
    this.wake();
  }

  /** Up to pullBatchSize buffered messages, waiting up to `timeoutMs` for the first. */
  async poll(timeoutMs: number = this.options.pollTimeoutMs ?? 5000): Promise<MessageExt[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const max = this.options.pullBatchSize ?? 10;
      const out: MessageExt[] = [];
      const keep: Buffered[] = [];
      for (const b of this.buffer) {
        const current = this.readers.get(queueKey(b.reader.mq)) === b.reader && b.epoch === b.reader.epoch;
        if (!current) continue; // from a queue that moved, or before a seek
        if (out.length < max && !b.reader.paused) {
          out.push(b.message);
          b.reader.consumedOffset = Math.max(b.reader.consumedOffset, b.message.queueOffset + 1);
        } else {
          keep.push(b);
        }
      }
      this.buffer = keep;
      if (out.length > 0 || Date.now() >= deadline || !this.running) return out;
      // Until the deadline, or until a pull buffers something.
      const woken = new AbortController();
      this.bufferWaiters.push(() => woken.abort());
      await sleep(Math.max(0, deadline - Date.now()), woken.signal);
    }
  }

  /** Commits the offsets of everything poll() has returned. */
  async commitSync(): Promise<void> {
    await Promise.all(
      [...this.readers.values()].map(async (r) => {
        if (r.consumedOffset < 0 || r.consumedOffset === r.lastCommitted) return;
        try {
          await commitOffset(this.transport, this.group, r.mq, r.consumedOffset, this.fence());
          r.lastCommitted = r.consumedOffset;
        } catch (e) {
          if (isMQError(e) && e.code === "NOT_QUEUE_OWNER") void this.member?.beatSoon();
          else throw e;
        }
      }),
    );
  }

  /** Pulling of `mq` restarts at `offset`; buffered messages of it are discarded. */
  seek(mq: MessageQueue, offset: number): void {
    const r = this.reader(mq);
    r.epoch++;
    r.pullOffset = offset;
    r.consumedOffset = offset;
    r.abort.abort();
    this.restart(r);
  }

  async seekToBegin(mq: MessageQueue): Promise<void> {
    this.seek(mq, (await queueOffsets(this.transport, mq)).minOffset);
  }

  async seekToEnd(mq: MessageQueue): Promise<void> {
    this.seek(mq, (await queueOffsets(this.transport, mq)).maxOffset);
  }

  pause(queues: MessageQueue[]): void {
    for (const mq of queues) this.reader(mq).paused = true;
  }

  resume(queues: MessageQueue[]): void {
    for (const mq of queues) this.reader(mq).paused = false;
    this.wake();
  }

  get assignedQueues(): MessageQueue[] {
    return [...this.readers.values()].map((r) => r.mq);
  }

  private reader(mq: MessageQueue): Reader {
    const r = this.readers.get(queueKey(mq));
    if (!r) throw new MQError("BAD_REQUEST", `queue ${queueKey(mq)} is not assigned to this consumer`);
    return r;
  }

  private onAssignment(response: HeartbeatResponse): void {
    if (this.running) this.setQueues(response.assignment);
  }

  private setQueues(queues: MessageQueue[]): void {
    const wanted = new Map(queues.map((mq) => [queueKey(mq), mq]));
    for (const [key, r] of [...this.readers]) {
      if (wanted.has(key)) continue;
      r.abort.abort();
      this.readers.delete(key);
    }
    for (const [key, mq] of wanted) {
      if (this.readers.has(key)) continue;
      const subscription = this.subscriptions.get(mq.topic) ?? { topic: mq.topic, expressionType: "TAG" as const, expression: "*" };
      const r: Reader = {
        mq,
        subscription,
        pullOffset: -1,
        consumedOffset: -1,
        lastCommitted: -1,
        paused: false,
        abort: new AbortController(),
        done: Promise.resolve(),
        epoch: 0,
      };
      this.readers.set(key, r);
      this.restart(r);
    }
  }

  private restart(r: Reader): void {
    const previous = r.done;
    r.abort = new AbortController();
    const abort = r.abort;
    r.done = previous.then(() => this.pullLoop(r, abort.signal)).catch(() => undefined);
  }

  private fence(): MemberFence | undefined {
    const current = this.member?.current;
    return current ? { clientId: this.clientId, generation: current.generation } : undefined;
  }

  private async startOffset(mq: MessageQueue): Promise<number> {
    const stored = await fetchOffset(this.transport, this.group, mq);
    if (stored >= 0) return stored;
    const { minOffset, maxOffset } = await queueOffsets(this.transport, mq);
    switch (this.options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET") {
      case "CONSUME_FROM_FIRST_OFFSET":
        return minOffset;
      case "CONSUME_FROM_TIMESTAMP":
        return searchOffset(this.transport, mq, this.options.consumeTimestampMs ?? Date.now() - 30 * 60_000);
      default:
        return maxOffset;
    }
  }

  private async pullLoop(r: Reader, signal: AbortSignal): Promise<void> {
    const threshold = this.options.pullThresholdForAll ?? 10_000;
    while (!signal.aborted && this.running) {
      try {
        if (r.pullOffset < 0) {
          r.pullOffset = await this.startOffset(r.mq);
          r.consumedOffset = r.pullOffset;
        }
        if (r.paused || this.buffer.length >= threshold) {
          await sleep(50, signal);
          continue;
        }
        const fence = this.fence();
        const epoch = r.epoch;
        const result = await pullMessages(this.transport, r.mq, {
          offset: r.pullOffset,
          maxNums: this.options.pullBatchSize ?? 10,
          expression: r.subscription.expression,
          expressionType: r.subscription.expressionType,
          maxWaitMs: this.options.brokerSuspendMaxTimeMs ?? 20_000,
          signal,
          ...(fence ? { group: this.group, fence } : {}),
        });
        if (signal.aborted || epoch !== r.epoch) return;
        r.pullOffset = result.nextBeginOffset;
        if (result.pullStatus === "FOUND") {
          for (const message of result.msgFoundList) this.buffer.push({ reader: r, epoch, message });
          this.wake();
        } else if (r.consumedOffset < r.pullOffset && !this.buffer.some((b) => b.reader === r)) {
          // Filtered out or moved: nothing to hand out, but the position advanced.
          r.consumedOffset = r.pullOffset;
        }
      } catch (e) {
        if (signal.aborted) return;
        if (isMQError(e) && e.code === "NOT_QUEUE_OWNER") {
          void this.member?.beatSoon();
          return;
        }
        await sleep(1000, signal);
      }
    }
  }

  private wake(): void {
    const waiters = this.bufferWaiters;
    this.bufferWaiters = [];
    for (const w of waiters) w();
  }
}
