/**
 * SimpleConsumer, as RocketMQ 5.x's: a stateless consumer for short-lived processes (a Worker,
 * a cron job, a serverless function). It holds no queues, sends no heartbeats and commits no
 * offsets: each receive long-polls the topic's queues for visible messages, which stay invisible
 * to the group until acked or until their invisible duration passes (then they come back with
 * reconsumeTimes + 1, after the retry ladder's delay). Any number of SimpleConsumers of one
 * group share every queue. A group is either a SimpleConsumer group or a push/pull one.
 */
import { Limits } from "../protocol/limits.js";
import type { MessageExtWire } from "../protocol/message.js";
import { checkGroupName } from "../protocol/names.js";
import type { AckStatus, PopAckResultWire, ReceivedMessageWire } from "../protocol/receipt-handle.js";
import { MQError } from "../protocol/errors.js";
import { fromWireMessage, type MessageExt } from "./message.js";
import { toSubscription, type MessageSelector } from "./message-selector.js";
import { pathSegment, Transport, type CallOptions, type ClientOptions } from "./transport.js";

export interface SimpleConsumerOptions extends ClientOptions {
  /** Consumer group name. */
  group: string;
  /** Longest a receive waits for a first visible message (RocketMQ 5.x's awaitDuration); default and most 20000. */
  awaitDurationMs?: number;
  /** The group is orderly (FIFO): one message group (`__SHARDINGKEY`) at a time. Default false. */
  orderly?: boolean;
  /** Redeliveries before a message goes to %DLQ%<group> instead; default 16. */
  maxReconsumeTimes?: number;
}

/** A received message: the message and what acks or changes it. */
export interface ReceivedMessage extends MessageExt {
  /** Names this delivery; spent by an ack or a change of invisibility, expired at invisibleUntil. */
  receiptHandle: string;
  /** When the handle expires and, unless acked, the message may be received again (epoch ms). */
  invisibleUntil: number;
  /** The first delivery of this message to the group (epoch ms). */
  firstReceivedAt: number;
}

export type { AckStatus };

/** Headroom over the long-poll hold before the client gives up on an answer. */
const RECEIVE_TIMEOUT_MARGIN_MS = 10_000;

export class SimpleConsumer {
  readonly group: string;
  private readonly transport: Transport;
  private readonly subscriptions = new Map<string, MessageSelector>();
  /** The subscribed topic the next receive asks first (receives take turns over the topics). */
  private nextTopic = 0;

  constructor(private readonly options: SimpleConsumerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.transport = new Transport(options);
  }

  /** Subscribes to a topic with a tag expression or a MessageSelector (SQL92); a bad SQL92 expression throws here. */
  subscribe(topic: string, expression: string | MessageSelector = "*"): this {
    const s = toSubscription(topic, expression);
    this.subscriptions.set(topic, { expressionType: s.expressionType, expression: s.expression });
    return this;
  }

  unsubscribe(topic: string): this {
    this.subscriptions.delete(topic);
    return this;
  }

  /**
   * Up to `maxMessageNum` (1-32) visible messages of one subscribed topic (the topics take
   * turns), each invisible to the group for `invisibleDurationMs` (10 s - 12 h). Waits up to
   * awaitDurationMs for a first message; answers [] when none came.
   */
  async receive(maxMessageNum: number, invisibleDurationMs: number, options: CallOptions = {}): Promise<ReceivedMessage[]> {
    const topics = [...this.subscriptions.keys()];
    if (topics.length === 0) throw new MQError("VALIDATION_FAILED", "subscribe to a topic before receiving");
    const topic = topics[this.nextTopic++ % topics.length]!;
    const selector = this.subscriptions.get(topic)!;
    const maxWaitMs = Math.min(this.options.awaitDurationMs ?? Limits.maxReceiveWaitMs, Limits.maxReceiveWaitMs);
    const answer = await this.transport.request<{ messages: ReceivedMessageWire[] }>(`/groups/${pathSegment(this.group)}/receive`, {
      timeoutMs: maxWaitMs + RECEIVE_TIMEOUT_MARGIN_MS,
      ...options,
      method: "POST",
      body: {
        topic,
        expressionType: selector.expressionType,
        expression: selector.expression,
        maxMessageNum,
        invisibleDurationMs,
        maxWaitMs,
        ...(this.options.orderly ? { orderly: true } : {}),
        ...(this.options.maxReconsumeTimes !== undefined ? { maxReconsumeTimes: this.options.maxReconsumeTimes } : {}),
      },
    });
    return answer.messages.map(fromReceivedWire);
  }

  /** Acks one message for good; throws RECEIPT_HANDLE_EXPIRED or RECEIPT_HANDLE_INVALID when its handle no longer holds. */
  async ack(message: ReceivedMessage, options: CallOptions = {}): Promise<void> {
    const [status] = await this.ackAll([message], options);
    if (status !== "OK") throw new MQError(status!, `message ${message.msgId} was not acked: ${status}`);
  }

  /** Acks many messages in one call (one row written per queue); each gets its status, in order. */
  async ackAll(messages: readonly ReceivedMessage[], options: CallOptions = {}): Promise<AckStatus[]> {
    if (messages.length === 0) return [];
    const answer = await this.transport.request<PopAckResultWire>(`/groups/${pathSegment(this.group)}/ack`, {
      ...options,
      method: "POST",
      body: { receiptHandles: messages.map((m) => m.receiptHandle) },
    });
    return answer.results.map((r) => r.status);
  }

  /**
   * Keeps a held message invisible for `invisibleDurationMs` (10 s - 12 h) from now, after which
   * it is visible again exactly then (a receiver's own retry delay). Answers the message with its
   * new receipt handle; the old one is spent.
   */
  async changeInvisibleDuration(message: ReceivedMessage, invisibleDurationMs: number, options: CallOptions = {}): Promise<ReceivedMessage> {
    const answer = await this.transport.request<{ receiptHandle: string; invisibleUntil: number }>(`/groups/${pathSegment(this.group)}/change-invisible`, {
      ...options,
      method: "POST",
      body: { receiptHandle: message.receiptHandle, invisibleDurationMs },
    });
    return { ...message, receiptHandle: answer.receiptHandle, invisibleUntil: answer.invisibleUntil };
  }
}

function fromReceivedWire(wire: ReceivedMessageWire): ReceivedMessage {
  const { receiptHandle, invisibleUntil, firstReceivedAt, ...message } = wire;
  return { ...fromWireMessage(message satisfies MessageExtWire), receiptHandle, invisibleUntil, firstReceivedAt };
}
