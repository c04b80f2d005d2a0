/** Naming of queue objects and calls into them, with RPC errors turned back into MQErrors. */
import { fromRpcError } from "../../protocol/errors.js";
import type { TopicConfig } from "../../protocol/route.js";
import type { QueueDO } from "../../durable-objects/queue.js";
import type { Env } from "../env.js";

/** One object per (broker, topic, queueId); the name is stable forever, so it is the key. */
export function queueObjectName(brokerName: string, topic: string, queueId: number): string {
  return `${brokerName}/${topic}/${queueId}`;
}

export function queueStub(env: Env, brokerName: string, topic: string, queueId: number): DurableObjectStub<QueueDO> {
  return env.QUEUE.get(env.QUEUE.idFromName(queueObjectName(brokerName, topic, queueId)));
}

/** Runs an RPC on a queue object; a failure arrives as a typed MQError. */
export async function callQueue<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw fromRpcError(e);
  }
}

export async function purgeTopicQueues(env: Env, config: TopicConfig): Promise<void> {
  const calls: Promise<void>[] = [];
  for (const q of config.queues) {
    const n = Math.max(q.readQueueNums, q.writeQueueNums);
    for (let queueId = 0; queueId < n; queueId++) {
      calls.push(callQueue(() => queueStub(env, q.brokerName, config.topic, queueId).purge()));
    }
  }
  await Promise.all(calls);
}
