/** Naming of queue objects and calls into them, with RPC errors turned back into MQErrors. */
import { fromRpcError } from "../protocol/errors.js";
import type { TopicConfig } from "../protocol/route.js";
import type { QueueDO } from "../durable-objects/queue.js";
import type { Env } from "./env.js";
import type { MessageQueue } from "../protocol/message.js";
import { readConfig } from "./config.js";
import { currentFaults, unreachableStub } from "./faults.js";

/**
 * One object per (broker, brokerId, topic, queueId); the name is stable forever, so it is the
 * key. The master (brokerId 0) keeps the name of releases without slaves.
 */
export function queueObjectName(brokerName: string, topic: string, queueId: number, brokerId = 0): string {
  return brokerId === 0 ? `${brokerName}/${topic}/${queueId}` : `${brokerName}@${brokerId}/${topic}/${queueId}`;
}

/** The master's queue object. */
export function queueStub(env: Env, brokerName: string, topic: string, queueId: number): DurableObjectStub<QueueDO> {
  return env.QUEUE.get(env.QUEUE.idFromName(queueObjectName(brokerName, topic, queueId)));
}

/**
 * The master's queue object as the broker routes reach it: under the test configuration a
 * broker's master can be made unreachable, every call failing without an answer.
 */
export function routedQueueStub(env: Env, brokerName: string, topic: string, queueId: number): DurableObjectStub<QueueDO> {
  if (env.TEST_FAULTS_ENABLED === "true" && currentFaults().unreachableMasters.includes(brokerName)) {
    return unreachableStub<DurableObjectStub<QueueDO>>(`master of ${brokerName}`);
  }
  return queueStub(env, brokerName, topic, queueId);
}

/** A slave's queue object, placed by SLAVE_LOCATION_HINT when set (only the first call places it). */
export function slaveQueueStub(env: Env, mq: MessageQueue, brokerId: number): DurableObjectStub<QueueDO> {
  const id = env.QUEUE.idFromName(queueObjectName(mq.brokerName, mq.topic, mq.queueId, brokerId));
  const hint = readConfig(env).slaveLocationHint;
  return hint ? env.QUEUE.get(id, { locationHint: hint as DurableObjectLocationHint }) : env.QUEUE.get(id);
}

/** Runs an RPC on a queue object; a failure arrives as a typed MQError. */
export async function callQueue<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw fromRpcError(e);
  }
}

/** Empties every queue of a deleted topic, on the master and on every slave. */
export async function purgeTopicQueues(env: Env, config: TopicConfig): Promise<void> {
  const slaves = readConfig(env).slavesPerBroker;
  const queues = config.queues.flatMap((q) =>
    Array.from({ length: Math.max(q.readQueueNums, q.writeQueueNums) }, (_, queueId) => ({ topic: config.topic, brokerName: q.brokerName, queueId })),
  );
  // Slaves first: a master purged first could push its new log before its slave was emptied.
  // The epoch of the new log guards that too; the order keeps a failed delete retryable.
  const slaveCalls = queues.flatMap((mq) => Array.from({ length: slaves }, (_, i) => callQueue(() => slaveQueueStub(env, mq, i + 1).purge())));
  await Promise.all(slaveCalls);
  await Promise.all(queues.map((mq) => callQueue(() => queueStub(env, mq.brokerName, mq.topic, mq.queueId).purge())));
}
