/**
 * Queue selection for ordered messages, as RocketMQ's MessageQueueSelector: the application
 * maps a message (and an argument, such as an order id) to one of the topic's write queues.
 */
import type { MessageQueue } from "../protocol/message.js";
import { queueIndexForKey } from "../protocol/sharding-key.js";
import type { Message } from "./message.js";

export { javaStringHash } from "../protocol/sharding-key.js";

export type MessageQueueSelector = (mqs: readonly MessageQueue[], message: Message, arg: unknown) => MessageQueue;

/** RocketMQ's SelectMessageQueueByHash: |hash(arg)| mod the number of queues. */
export const selectMessageQueueByHash: MessageQueueSelector = (mqs, _message, arg) => mqs[queueIndexForKey(String(arg), mqs.length)]!;
