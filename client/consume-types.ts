/** Listener contracts of push consumers, in RocketMQ's vocabulary. */
import type { MessageQueue } from "../protocol/message.js";
import type { MessageExt } from "./message.js";

export type ConsumeConcurrentlyStatus = "CONSUME_SUCCESS" | "RECONSUME_LATER";
export type ConsumeOrderlyStatus = "SUCCESS" | "SUSPEND_CURRENT_QUEUE_A_MOMENT";

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
  consumeMessage(
    messages: MessageExt[],
    context: ConsumeConcurrentlyContext,
  ): ConsumeConcurrentlyStatus | Promise<ConsumeConcurrentlyStatus>;
}

export interface MessageListenerOrderly {
  orderly: true;
  consumeMessage(messages: MessageExt[], context: ConsumeOrderlyContext): ConsumeOrderlyStatus | Promise<ConsumeOrderlyStatus>;
}

export type MessageListener = MessageListenerConcurrently | MessageListenerOrderly;

/** A concurrent listener from a function; a throw counts as RECONSUME_LATER. */
export function concurrently(
  fn: MessageListenerConcurrently["consumeMessage"],
): MessageListenerConcurrently {
  return { consumeMessage: fn };
}

/** An orderly listener from a function: one queue at a time, in offset order. */
export function orderly(fn: MessageListenerOrderly["consumeMessage"]): MessageListenerOrderly {
  return { orderly: true, consumeMessage: fn };
}
