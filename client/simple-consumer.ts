/**
 * SimpleConsumer, as RocketMQ 5.x's: a stateless consumer for short-lived processes (a Worker,
 * a cron job, a serverless function). It holds no queues, sends no heartbeats and commits no
 * offsets: each receive long-polls the topic's queues for visible messages, which stay invisible
 * to the group until acked or until their invisible duration passes (then they come back with
 * reconsumeTimes + 1, after the retry ladder's delay). Any number of SimpleConsumers of one
 * group share every queue. A group is either a SimpleConsumer group or a push/pull one.
 */
import { Limits } from "../protocol/limits.js";
import { checkGroupName } from "../protocol/names.js";
import type { AckStatus, PopAckResultWire, ReceivedMessageWire } from "../protocol/receipt-handle.js";
import { MQError } from "../protocol/errors.js";
import { HeldAcks, refusedBeforeRunning } from "./held-acks.js";
import { fromWireMessage, type MessageExt } from "./message.js";
import type { WithByteBodies } from "../protocol/framed-messages.js";
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
  /**
   * Whether an ack given without call options waits for the rest of the tick, so that a receive
   * started meanwhile carries it (one request, and one row per queue for both) and acks given in
   * the same tick leave together; default true. False: every ack is its own request at once.
   */
  acksRideReceives?: boolean;
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
  private readonly heldAcks: HeldAcks;

  constructor(private readonly options: SimpleConsumerOptions) {
    checkGroupName(options.group);
    this.group = options.group;
    this.transport = new Transport(options);
    this.heldAcks = new HeldAcks((receiptHandles) => this.sendAcks(receiptHandles, {}), Limits.maxAckHandles);
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
   *
   * It carries the acks held in this tick (acksRideReceives). Such a receive does not wait on
   * the server, so the acks' outcomes come at once; with nothing visible it asks again without
   * them. Its request is not aborted by `options.signal` (the acks would be left unknown): the
   * abort rejects the receive, the acks still get their answer, and the messages that answer
   * brings are visible again after invisibleDurationMs.
   */
  async receive(maxMessageNum: number, invisibleDurationMs: number, options: CallOptions = {}): Promise<ReceivedMessage[]> {
    const topics = [...this.subscriptions.keys()];
    if (topics.length === 0) throw new MQError("VALIDATION_FAILED", "subscribe to a topic before receiving");
    const topic = topics[this.nextTopic++ % topics.length]!;
    const selector = this.subscriptions.get(topic)!;
    const maxWaitMs = Math.min(this.options.awaitDurationMs ?? Limits.maxReceiveWaitMs, Limits.maxReceiveWaitMs);
    const acks = options.signal?.aborted ? undefined : this.heldAcks.take();
    const { signal, ...unsignalled } = options;
    const request = this.transport.request<ReceiveAnswer>(`/groups/${pathSegment(this.group)}/receive`, {
      timeoutMs: maxWaitMs + RECEIVE_TIMEOUT_MARGIN_MS,
      framed: true,
      ...(acks ? unsignalled : options),
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
        ...(acks ? { ackReceiptHandles: acks.receiptHandles } : {}),
      },
    });
    if (!acks) return (await request).messages.map((m) => fromWireMessage(m));
    const settled = request.then(
      (answer) => {
        acks.settle(answer.ackResults?.map((r) => r.status));
        return answer;
      },
      (e: unknown) => {
        // Refused before it ran: nothing was acked, so the acks leave on their own.
        if (refusedBeforeRunning(e)) this.heldAcks.putBack(acks);
        else acks.fail(e);
        throw e;
      },
    );
    const messages = (await untilAborted(settled, signal)).messages.map((m) => fromWireMessage(m));
    return messages.length > 0 ? messages : this.receive(maxMessageNum, invisibleDurationMs, options);
  }

  /** Acks one message for good; throws RECEIPT_HANDLE_EXPIRED or RECEIPT_HANDLE_INVALID when its handle no longer holds. */
  async ack(message: ReceivedMessage, options: CallOptions = {}): Promise<void> {
    const [status] = await this.ackAll([message], options);
    if (status !== "OK") throw new MQError(status!, `message ${message.msgId} was not acked: ${status}`);
  }

  /**
   * Acks many messages in one call (one row written per queue); each gets its status, in order.
   * Without call options the ack is held for the rest of the tick (acksRideReceives).
   */
  async ackAll(messages: readonly ReceivedMessage[], options: CallOptions = {}): Promise<AckStatus[]> {
    if (messages.length === 0) return [];
    const receiptHandles = messages.map((m) => m.receiptHandle);
    const holds = this.options.acksRideReceives !== false && options.signal === undefined && options.timeoutMs === undefined;
    return holds ? this.heldAcks.add(receiptHandles) : this.sendAcks(receiptHandles, options);
  }

  private async sendAcks(receiptHandles: string[], options: CallOptions): Promise<AckStatus[]> {
    const answer = await this.transport.request<PopAckResultWire>(`/groups/${pathSegment(this.group)}/ack`, {
      ...options,
      method: "POST",
      body: { receiptHandles },
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

interface ReceiveAnswer {
  /** Bodies in base64 (JSON), or bytes (the framed answer). */
  messages: (ReceivedMessageWire | WithByteBodies<{ messages: ReceivedMessageWire[] }>["messages"][number])[];
  ackResults?: PopAckResultWire["results"];
}

/** `promise`, or an ABORTED refusal once `signal` aborts (the promise itself runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => undefined); // after an abort its failure is nobody's
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new MQError("ABORTED", "the call was aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
