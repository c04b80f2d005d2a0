/** Listener contracts of push consumers, in RocketMQ's vocabulary. */
import { MQError } from "../protocol/errors.js";
import type { MessageQueue } from "../protocol/message.js";
import type { MessageExt } from "./message.js";

/**
 * The statuses as values too, spelled as RocketMQ's enums are (`return
 * ConsumeConcurrentlyStatus.CONSUME_SUCCESS`). They also spare TypeScript users a trap: an async
 * listener whose only return is a bare string literal has it widened to `string` against a return
 * type that unites a status with a promise of one, and fails to compile; a constant keeps its type.
 */
export const ConsumeConcurrentlyStatus = { CONSUME_SUCCESS: "CONSUME_SUCCESS", RECONSUME_LATER: "RECONSUME_LATER" } as const;
export type ConsumeConcurrentlyStatus = (typeof ConsumeConcurrentlyStatus)[keyof typeof ConsumeConcurrentlyStatus];
export const ConsumeOrderlyStatus = { SUCCESS: "SUCCESS", SUSPEND_CURRENT_QUEUE_A_MOMENT: "SUSPEND_CURRENT_QUEUE_A_MOMENT" } as const;
export type ConsumeOrderlyStatus = (typeof ConsumeOrderlyStatus)[keyof typeof ConsumeOrderlyStatus];

export interface ConsumeConcurrentlyContext {
  messageQueue: MessageQueue;
  /** Delay level of the retry when RECONSUME_LATER; 0 = the ladder (3 + reconsumeTimes), -1 = DLQ now. */
  delayLevelWhenNextConsume: number;
  /** With CONSUME_SUCCESS, messages after this index count as failed (RocketMQ's ackIndex). */
  ackIndex: number;
}

export interface ConsumeOrderlyContext {
  messageQueue: MessageQueue;
  /** Pause before the same messages are retried after SUSPEND; default from the consumer. */
  suspendCurrentQueueTimeMillis: number;
}

export interface MessageListenerConcurrently {
  orderly?: false;
  consumeMessage(messages: MessageExt[], context: ConsumeConcurrentlyContext): ConsumeConcurrentlyStatus | Promise<ConsumeConcurrentlyStatus>;
}

export interface MessageListenerOrderly {
  orderly: true;
  consumeMessage(messages: MessageExt[], context: ConsumeOrderlyContext): ConsumeOrderlyStatus | Promise<ConsumeOrderlyStatus>;
}

export type MessageListener = MessageListenerConcurrently | MessageListenerOrderly;

/**
 * A concurrent listener as a plain function, as a lambda is in Java. Its result is the status;
 * returning nothing means the messages were consumed (CONSUME_SUCCESS), and a throw or a
 * rejected promise means RECONSUME_LATER.
 */
export type ConsumeConcurrentlyFunction = (
  messages: MessageExt[],
  context: ConsumeConcurrentlyContext,
) => ConsumeConcurrentlyStatus | void | Promise<ConsumeConcurrentlyStatus | void>;

/** A concurrent listener from a function; nothing returned counts as CONSUME_SUCCESS, a throw as RECONSUME_LATER. */
export function concurrently(fn: ConsumeConcurrentlyFunction): MessageListenerConcurrently {
  return { consumeMessage: async (messages, context) => (await fn(messages, context)) ?? "CONSUME_SUCCESS" };
}

/**
 * What registerMessageListener accepts: a listener object, or a plain function taken as a
 * concurrent listener. Anything else is refused now rather than failing every delivery later.
 */
export function toMessageListener(listener: MessageListener | ConsumeConcurrentlyFunction): MessageListener {
  if (typeof listener === "function") return concurrently(listener);
  const candidate = listener as Partial<MessageListener> | null | undefined;
  if (typeof candidate === "object" && candidate !== null && typeof candidate.consumeMessage === "function") return listener;
  throw new MQError(
    "BAD_REQUEST",
    `registerMessageListener takes a function (msgs, context) => status, concurrently(fn), orderly(fn) or an object with consumeMessage(); got ${kindOf(listener)}`,
  );
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return "an object without a consumeMessage function";
}

/** An orderly listener from a function: one queue at a time, in offset order. */
export function orderly(fn: MessageListenerOrderly["consumeMessage"]): MessageListenerOrderly {
  return { orderly: true, consumeMessage: fn };
}
