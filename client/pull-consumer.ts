/**
 * PullConsumer, as RocketMQ's DefaultMQPullConsumer: the application chooses queues and
 * offsets; the broker holds a pull open (long polling) until a message arrives or the wait
 * ends. Consume offsets of the group are kept by the broker.
 */
import { checkGroupName, checkTopicName } from "../protocol/names.js";
import { Limits } from "../protocol/limits.js";
import type { MessageQueue, QueueStats } from "../protocol/message.js";
import { MessageSelector } from "./message-selector.js";
import { pullMessages, type PullResult } from "./pull-api.js";
import { brokerPath, readQueues, RouteCache } from "./routes.js";
import { pathSegment, Transport, type CallOptions, type ClientOptions } from "./transport.js";

export interface PullConsumerOptions extends ClientOptions {
  /** Consumer group name. */
  group: string;
  /** Route refresh interval; default 30000. */
  pollNameServerIntervalMs?: number;
}

export interface PullOptions {
  /** How long the broker may hold the pull when nothing is there; default 15000, at most 30000. */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

export type { PullResult };

export class PullConsumer {
  readonly group: string;
  private readonly transport: Transport;
  private readonly routes: RouteCache;

  constructor(options: PullConsumerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.transport = new Transport(options);
    this.routes = new RouteCache(this.transport, options.pollNameServerIntervalMs ?? 30_000);
  }

  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}

  /** The readable queues of a topic, in broker then queueId order. */
  async fetchSubscribeMessageQueues(topic: string, options: CallOptions = {}): Promise<MessageQueue[]> {
    checkTopicName(topic);
    this.routes.invalidate(topic);
    return readQueues(topic, await this.routes.get(topic, options));
  }

  /** Pulls from `offset`; `subExpression` is a tag expression or a MessageSelector (SQL92). */
  async pull(
    mq: MessageQueue,
    subExpression: string | MessageSelector,
    offset: number,
    maxNums: number = Limits.maxPullNums,
    options: PullOptions = {},
  ): Promise<PullResult> {
    const selector = typeof subExpression === "string" ? MessageSelector.byTag(subExpression) : subExpression;
    return pullMessages(this.transport, mq, {
      offset,
      maxNums,
      expression: selector.expression,
      expressionType: selector.expressionType,
      maxWaitMs: options.maxWaitMs ?? Limits.defaultPullWaitMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async updateConsumeOffset(mq: MessageQueue, offset: number, options: CallOptions = {}): Promise<void> {
    await this.transport.request(`${brokerPath(mq)}/groups/${pathSegment(this.group)}/offset`, {
      ...options,
      method: "PUT",
      body: { offset },
    });
  }

  /** The group's committed offset; -1 when it has none (0 while the queue still holds offset 0). */
  async fetchConsumeOffset(mq: MessageQueue, options: CallOptions = {}): Promise<number> {
    const r = await this.transport.request<{ offset: number }>(`${brokerPath(mq)}/groups/${pathSegment(this.group)}/offset`, options);
    return r.offset;
  }

  /** First offset stored at or after `timestamp` (epoch ms); maxOffset when all are older. */
  async searchOffset(mq: MessageQueue, timestamp: number, options: CallOptions = {}): Promise<number> {
    const r = await this.transport.request<{ offset: number }>(`${brokerPath(mq)}/offsets/search`, {
      ...options,
      query: { timestamp },
    });
    return r.offset;
  }

  async minOffset(mq: MessageQueue, options: CallOptions = {}): Promise<number> {
    return (await this.queueStats(mq, options)).minOffset;
  }

  async maxOffset(mq: MessageQueue, options: CallOptions = {}): Promise<number> {
    return (await this.queueStats(mq, options)).maxOffset;
  }

  private queueStats(mq: MessageQueue, options: CallOptions): Promise<QueueStats> {
    return this.transport.request<QueueStats>(`${brokerPath(mq)}/stats`, options);
  }
}
