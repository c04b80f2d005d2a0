/**
 * The Workers RPC contract of flaremq: what another Worker of the same Cloudflare account calls
 * through a service binding to flaremq's `FlareMQ` entrypoint (workers/rpc/entrypoint.ts),
 * without HTTP or request signing. A caller types its binding with `FlareMQService` and reads
 * refusals with `mqErrorFromRpc`; docs/workers.md shows the wrangler.toml and the calls.
 *
 * Who calls is set per binding, by the caller's wrangler.toml: `props = { account = "..." }`
 * names a flaremq account (workers/auth/), and every call may do what that account may do over
 * HTTP, checked the same way, on every topic and group the call names. Semantics are the HTTP
 * API's: `send` is POST .../messages (SendResult), `receive`, `ack` and
 * `changeInvisibleDuration` are the SimpleConsumer (POP) routes.
 */
import { isMQError, MQError, parseCodedMessage } from "./errors.js";
import type { MessageExtWire, SendResult } from "./message.js";
import type { AckStatus } from "./receipt-handle.js";

export type { SendResult, SendStatus, MessageQueue } from "./message.js";
export type { AckStatus } from "./receipt-handle.js";

/** The named export of flaremq's Worker to bind to (`entrypoint` in the service binding). */
export const FLAREMQ_ENTRYPOINT = "FlareMQ";

/** The `props` of a service binding to flaremq: the flaremq account the binding acts as. */
export interface FlareMQBindingProps {
  /** Access key of a flaremq account (FLAREMQ_ACCOUNTS or `flaremq account create`). */
  account: string;
}

/** A message to send, as the HTTP API's and RocketMQ's Message. */
export interface WorkerMessage {
  topic: string;
  /** Bytes, or a string sent as UTF-8. Must not be empty. */
  body: string | Uint8Array;
  tags?: string;
  /** Business keys, indexed for queries by key; no whitespace inside a key. */
  keys?: string[];
  /** User properties; names the broker owns (TAGS, KEYS, DELAY, ...) are refused. */
  properties?: Record<string, string>;
  /** Delay level 1..N of the deployment's table (1 = 1s ... 18 = 2h by default); 0 or absent sends at once. */
  delayTimeLevel?: number;
  /** Deliver at this epoch time in ms (RocketMQ 5 timer message); past times deliver at once. */
  deliverTimeMs?: number;
  /** The message's unique key (UNIQ_KEY); default generated. Send again with the same one to retry without a duplicate. */
  msgId?: string;
}

/** A SimpleConsumer receive: up to maxMessageNum visible messages of one topic for a group. */
export interface WorkerReceiveRequest {
  /** The consumer group; the binding's account needs SUB on it, and SUB on the topic. */
  group: string;
  topic: string;
  /** Default "TAG". */
  expressionType?: "TAG" | "SQL92";
  /** Default "*" (every message). */
  expression?: string;
  /** 1-32. */
  maxMessageNum: number;
  /** How long a received message stays invisible to the group unless acked: 10 s - 12 h. */
  invisibleDurationMs: number;
  /** Longest wait for a first visible message; default and most 20000. 0 answers at once. */
  maxWaitMs?: number;
  /** The group is orderly (FIFO): one message group (`__SHARDINGKEY`, set by sendOrderly) at a time. Default false. */
  orderly?: boolean;
  /** Redeliveries before a message goes to %DLQ%<group> instead; default 16. */
  maxReconsumeTimes?: number;
}

/** A received message: the message with its body as bytes, and what acks or changes it. */
export interface WorkerReceivedMessage extends Omit<MessageExtWire, "body"> {
  body: Uint8Array;
  /** Names this delivery; spent by an ack or a change of invisibility, expired at invisibleUntil. */
  receiptHandle: string;
  /** When the handle expires and, unless acked, the message may be received again (epoch ms). */
  invisibleUntil: number;
  /** The first delivery of this message to the group (epoch ms). */
  firstReceivedAt: number;
}

/** What an ack did to one handle: OK (gone for good), RECEIPT_HANDLE_EXPIRED or RECEIPT_HANDLE_INVALID (nothing changed). */
export interface WorkerAckResult {
  receiptHandle: string;
  status: AckStatus;
}

/** The calls of flaremq's `FlareMQ` entrypoint; type a service binding to it with this. */
export interface FlareMQService {
  /** Sends one message to a queue of its topic flaremq picks (round robin); resolves once stored durably. */
  send(message: WorkerMessage): Promise<SendResult>;
  /** Sends messages of one topic as one batch: one queue, all or none, consecutive offsets; no delays. */
  sendBatch(messages: WorkerMessage[]): Promise<SendResult>;
  /**
   * Ordered send: every message with the same `shardingKey` goes to the same queue, in send order
   * (the key's hash picks the queue, as the client's `shardingKey`), and carries it as its message
   * group (`__SHARDINGKEY`), so an orderly receive holds a key's later messages back while an earlier one is unacked.
   */
  sendOrderly(message: WorkerMessage, shardingKey: string): Promise<SendResult>;
  /** Receives (POP) up to maxMessageNum messages, each invisible to the group until acked; [] when none came in maxWaitMs. */
  receive(request: WorkerReceiveRequest): Promise<WorkerReceivedMessage[]>;
  /** Acks received messages of the group by handle (any topics, one row per queue); each handle's status, in order. */
  ack(group: string, receiptHandles: string[]): Promise<WorkerAckResult[]>;
  /** Keeps a held message invisible for invisibleDurationMs (10 s - 12 h) from now; answers its new handle (the old one is spent). */
  changeInvisibleDuration(group: string, receiptHandle: string, invisibleDurationMs: number): Promise<{ receiptHandle: string; invisibleUntil: number }>;
}

/**
 * The MQError a call to flaremq failed with (its `code`, `status` and `retriable` as over
 * HTTP), rebuilt from the `[CODE] message` form errors cross RPC in; null for a failure that
 * is not flaremq's refusal (the binding missing, the platform failing).
 */
export function mqErrorFromRpc(e: unknown): MQError | null {
  if (isMQError(e)) return e;
  const coded = parseCodedMessage(e instanceof Error ? e.message : String(e));
  return coded ? new MQError(coded.code, coded.message) : null;
}
