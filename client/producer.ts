/**
 * Producer, as RocketMQ's DefaultMQProducer: picks queues round-robin from the topic route and,
 * on a retriable failure, retries on another queue — preferring another broker — within one
 * overall send timeout. Every attempt carries the same client-generated msgId.
 */
import { isMQError, MQError } from "../protocol/errors.js";
import { checkGroupName, checkTopicName } from "../protocol/names.js";
import type { MessageQueue, SendResult } from "../protocol/message.js";
import { createMsgId } from "../protocol/msg-id.js";
import { toWireMessage, type Message } from "./message.js";
import { brokerPath, publishQueues, RouteCache } from "./routes.js";
import { Transport, type CallOptions, type ClientOptions } from "./transport.js";

export interface ProducerOptions extends ClientOptions {
  /** Producer group name. */
  group: string;
  /** Total time budget of one send across its retries; default 3000 (sendMsgTimeout). */
  sendMsgTimeoutMs?: number;
  /** Extra attempts after a failed synchronous send; default 2 (retryTimesWhenSendFailed). */
  retryTimesWhenSendFailed?: number;
  /** Route refresh interval; default 30000 (pollNameServerInterval). */
  pollNameServerIntervalMs?: number;
  /** Queues per broker used for a topic that the first send will auto-create; default 4. */
  defaultTopicQueueNums?: number;
}

export interface SendOptions extends CallOptions {
  /** Send to this queue only; no retry elsewhere. */
  messageQueue?: MessageQueue;
}

/** Broker answers after which another queue may succeed (RocketMQ's retryResponseCodes). */
const RETRY_ON_ANOTHER_QUEUE = new Set(["TOPIC_NOT_EXIST", "NO_PERMISSION"]);

export class Producer {
  readonly group: string;
  private readonly transport: Transport;
  private readonly routes: RouteCache;
  private readonly sendMsgTimeoutMs: number;
  private readonly retryTimes: number;
  private readonly defaultTopicQueueNums: number;
  private sendWhichQueue = Math.floor(Math.random() * 1024);
  private started = false;

  constructor(options: ProducerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.transport = new Transport(options);
    this.routes = new RouteCache(this.transport, options.pollNameServerIntervalMs ?? 30_000);
    this.sendMsgTimeoutMs = options.sendMsgTimeoutMs ?? 3000;
    this.retryTimes = options.retryTimesWhenSendFailed ?? 2;
    this.defaultTopicQueueNums = options.defaultTopicQueueNums ?? 4;
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async shutdown(): Promise<void> {
    this.started = false;
  }

  /** Sends one message and resolves once the broker has stored it durably. */
  async send(message: Message, options: SendOptions = {}): Promise<SendResult> {
    this.assertStarted();
    checkTopicName(message.topic);
    if (options.messageQueue && options.messageQueue.topic !== message.topic) {
      throw new MQError("BAD_REQUEST", "messageQueue.topic differs from message.topic");
    }
    const now = Date.now();
    const wire = toWireMessage(message, createMsgId(now), now);
    const deadline = now + (options.timeoutMs ?? this.sendMsgTimeoutMs);
    const attempts = options.messageQueue ? 1 : 1 + this.retryTimes;
    let lastBroker: string | undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) break;
      let mq: MessageQueue | undefined;
      const callOptions: CallOptions = { timeoutMs: remainingMs };
      if (options.signal) callOptions.signal = options.signal;
      try {
        mq = options.messageQueue ?? (await this.selectQueue(message.topic, lastBroker, callOptions));
        return await this.transport.request<SendResult>(`${brokerPath(mq)}/messages`, {
          ...callOptions,
          timeoutMs: Math.max(1, deadline - Date.now()),
          method: "POST",
          body: { messages: [wire] },
        });
      } catch (e) {
        lastError = e;
        if (!isMQError(e) || !(e.retriable || RETRY_ON_ANOTHER_QUEUE.has(e.code)) || e.code === "ABORTED") throw e;
        if (RETRY_ON_ANOTHER_QUEUE.has(e.code)) this.routes.invalidate(message.topic);
        if (mq) lastBroker = mq.brokerName;
      }
    }
    if (isMQError(lastError) && lastError.code !== "TIMEOUT") throw lastError;
    throw new MQError("TIMEOUT", `send to "${message.topic}" did not succeed within ${this.sendMsgTimeoutMs} ms`, {
      cause: lastError,
    });
  }

  /** Round-robin over the write queues, skipping the broker that just failed when possible. */
  private async selectQueue(topic: string, avoidBroker: string | undefined, options: CallOptions): Promise<MessageQueue> {
    const queues = await publishQueues(this.routes, topic, this.defaultTopicQueueNums, options);
    if (queues.length === 0) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" has no writable queues`);
    for (let i = 0; i < queues.length; i++) {
      const mq = queues[this.sendWhichQueue++ % queues.length]!;
      if (mq.brokerName !== avoidBroker) return mq;
    }
    return queues[this.sendWhichQueue++ % queues.length]!;
  }

  private assertStarted(): void {
    if (!this.started) throw new MQError("BAD_REQUEST", "producer is not started; call start() first");
  }
}
