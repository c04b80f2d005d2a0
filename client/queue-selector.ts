/**
 * Queue selection for ordered messages, as RocketMQ's MessageQueueSelector: the application
 * maps a message (and an argument, such as an order id) to one of the topic's write queues.
 */
import type { MessageQueue } from "../protocol/message.js";
import type { Message } from "./message.js";

export type MessageQueueSelector = (mqs: readonly MessageQueue[], message: Message, arg: unknown) => MessageQueue;

/** Java's String.hashCode, so keys land where a RocketMQ Java producer would put them. */
export function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** RocketMQ's SelectMessageQueueByHash: |hash(arg)| mod the number of queues. */
export const selectMessageQueueByHash: MessageQueueSelector = (mqs, _message, arg) => {
  const index = Math.abs(javaStringHash(String(arg)) % mqs.length);
  return mqs[index]!;
};
