/**
 * A send that names only its topic: the server picks the queue, as the client's producer does
 * for an HTTP send (round robin over the topic's write queues, or the one queue a sharding
 * key maps to), then stores through the same path as POST .../messages (resolve-queue.ts,
 * send.ts), so the checks, the auto-create and the SendResult are the HTTP route's. Used by the
 * Workers RPC entrypoint (workers/rpc/), whose callers hold no route table.
 */
import { isMQError, MQError } from "../../protocol/errors.js";
import type { MessageQueue, SendResult } from "../../protocol/message.js";
import { canWrite, notWritableMessage } from "../../protocol/route.js";
import type { SendRequest } from "../../protocol/schemas.js";
import { queueIndexForKey } from "../../protocol/sharding-key.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { routedQueueStub } from "../../cluster/stubs.js";
import { toStoredMessages } from "./messages.js";
import { resolveQueue, topicFor } from "./resolve-queue.js";
import { checkSendRequest, storeMessages } from "./send.js";

export interface TopicSendOptions {
  /** Ordered send: the key's queue (as the client's `shardingKey`), retried only there. */
  shardingKey?: string;
  /** Stored as the messages' bornHost. */
  bornHost: string;
}

/** Attempts of one send: the first and two retries after a retriable failure, as the client's retryTimesWhenSendFailed. */
const ATTEMPTS = 3;

/** Where the next unkeyed send of this isolate starts its round robin. */
let nextQueue = Math.floor(Math.random() * 1024);

/** The topic's write queues, in route order (the order the client's producer sees). */
function writeQueues(topic: string, queues: readonly { brokerName: string; perm: number; writeQueueNums: number }[]): MessageQueue[] {
  return queues
    .filter((q) => canWrite(q.perm))
    .flatMap((q) => Array.from({ length: q.writeQueueNums }, (_, queueId) => ({ topic, brokerName: q.brokerName, queueId })));
}

/**
 * The queues to try in turn: the key's queue each time, or round robin from `start`, moving to
 * another broker after a failure when the topic has one.
 */
export function attemptQueues(queues: readonly MessageQueue[], shardingKey: string | undefined, start: number): MessageQueue[] {
  if (shardingKey !== undefined) return Array.from({ length: ATTEMPTS }, () => queues[queueIndexForKey(shardingKey, queues.length)]!);
  const out: MessageQueue[] = [];
  for (let i = 0; out.length < ATTEMPTS && i < queues.length * ATTEMPTS; i++) {
    const mq = queues[(start + i) % queues.length]!;
    const last = out[out.length - 1];
    if (last && mq.brokerName === last.brokerName && queues.some((q) => q.brokerName !== last.brokerName)) continue;
    out.push(mq);
  }
  return out;
}

/** Stores the request's messages (all of `topic`) on a queue of the topic; resolves once they are durable. */
export async function sendToTopic(env: Env, topic: string, request: SendRequest, options: TopicSendOptions): Promise<SendResult> {
  const config = readConfig(env);
  const topicQueues = (await topicFor(env, topic, "write")).queues;
  const queues = writeQueues(topic, topicQueues);
  if (queues.length === 0) throw new MQError("NO_PERMISSION", notWritableMessage(topic, topicQueues));
  const now = Date.now();
  // Converted and checked once: every attempt carries the same msgIds, so a retry the broker
  // already stored on the same queue is dropped as a duplicate.
  const messages = toStoredMessages(request.messages, now, options.bornHost);
  checkSendRequest(config, now, request, messages);
  let lastError: unknown;
  for (const target of attemptQueues(queues, options.shardingKey, nextQueue++)) {
    try {
      const { mq } = await resolveQueue(env, { broker: target.brokerName, topic, queueId: String(target.queueId) }, "write");
      return await storeMessages({ mq, stub: routedQueueStub(env, mq.brokerName, mq.topic, mq.queueId), config, now }, request, messages);
    } catch (e) {
      if (!isMQError(e) || !e.retriable) throw e;
      lastError = e;
    }
  }
  throw lastError;
}
