/**
 * Batches, as RocketMQ's MessageBatch: messages of one topic stored together, all or none,
 * with consecutive offsets. `splitBatches` cuts a long list into batches under the size cap
 * (RocketMQ's ListSplitter example), counting body bytes as the broker does.
 */
import { Limits } from "../protocol/limits.js";
import { MQError } from "../protocol/errors.js";
import { propertiesSize } from "../protocol/message.js";
import { bodiesTooLarge, bodyTooLarge } from "../protocol/size-refusals.js";
import { normaliseKeys, type Message } from "./message.js";

const encoder = new TextEncoder();

export interface SplitOptions {
  /** Largest total size of one batch in bytes; default 4 MiB (the server's cap on bodies per send). */
  maxBatchBytes?: number;
  /** Most messages in one batch; default 1024. */
  maxBatchCount?: number;
}

export function messageSize(m: Message): number {
  const body = typeof m.body === "string" ? encoder.encode(m.body).length : m.body.length;
  return body;
}

/**
 * Refuses a body over the message body limit before it is sent (as RocketMQ's
 * Validators.checkMessage): in base64 it would also be over the request limit, and the server
 * could only name that one. `index` names the message within a batch.
 */
export function checkBodySize(m: Message, index?: number): void {
  const size = messageSize(m);
  if (size > Limits.maxBodyBytes) throw bodyTooLarge(size, index);
}

/** Throws unless `messages` can travel as one batch. */
export function checkBatch(messages: readonly Message[]): void {
  if (messages.length === 0) throw new MQError("MESSAGE_ILLEGAL", "a batch needs at least one message");
  const topic = messages[0]!.topic;
  if (messages.some((m) => m.topic !== topic)) throw new MQError("MESSAGE_ILLEGAL", "every message of a batch must have the same topic");
  if (topic.startsWith("%RETRY%")) throw new MQError("MESSAGE_ILLEGAL", "retry topics cannot be batched");
  if (messages.some((m) => m.delayTimeLevel || m.deliverTimeMs !== undefined))
    throw new MQError("BATCH_DELAY_NOT_SUPPORTED", "delayed messages cannot be batched");
  if (messages.length > Limits.maxBatchCount) throw new MQError("VALIDATION_FAILED", `a batch holds at most ${Limits.maxBatchCount} messages`);
  messages.forEach((m, i) => checkBodySize(m, messages.length > 1 ? i : undefined));
  const total = messages.reduce((n, m) => n + messageSize(m), 0);
  if (total > Limits.maxBatchBodyBytes) throw bodiesTooLarge(total, "; use splitBatches");
}

/** Splits `messages` into batches under the caps; a single over-size message is refused. */
export function splitBatches(messages: readonly Message[], options: SplitOptions = {}): Message[][] {
  const maxBytes = options.maxBatchBytes ?? Limits.maxBatchBodyBytes;
  const maxCount = options.maxBatchCount ?? Limits.maxBatchCount;
  const out: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = messageSize(m);
    if (size > Limits.maxBodyBytes) throw bodyTooLarge(size);
    if (size > maxBytes) throw new MQError("MESSAGE_BODY_TOO_LARGE", `a message body of ${size} bytes exceeds the batch cap ${maxBytes}`);
    if (current.length > 0 && (bytes + size > maxBytes || current.length >= maxCount)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The encoded properties size of a message, for callers that pre-check the 32 KiB limit. */
export function messagePropertiesSize(m: Message): number {
  return propertiesSize(m.tags ?? "", normaliseKeys(m.keys), m.properties ?? {});
}
