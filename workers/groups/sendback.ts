/**
 * Consumer send-back (RocketMQ's CONSUMER_SEND_MSG_BACK): a message a clustering consumer
 * failed goes to `%RETRY%<group>` with delay level 3 + reconsumeTimes, keeping its msgId,
 * original topic (RETRY_TOPIC) and first msgId (ORIGIN_MESSAGE_ID); past maxReconsumeTimes
 * it goes to `%DLQ%<group>` instead (the decision: protocol/retry-ladder.ts). The body is read
 * from the queue it was pulled from, so the consumer does not upload it again.
 */
import { dlqTopic, retryTopic } from "../../protocol/consumer.js";
import { delayForLevel } from "../../protocol/delay-levels.js";
import { MQError } from "../../protocol/errors.js";
import type { MessageQueue, StoredMessage } from "../../protocol/message.js";
import { DEFAULT_MAX_RECONSUME_TIMES, nextRetryStep } from "../../protocol/retry-ladder.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { upsertTopic } from "../../cluster/topic-registry.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { resolveQueue } from "../broker-shard/resolve-queue.js";

export interface SendBackResult {
  /** Where the message went: the retry topic (with its due time) or the dead-letter queue. */
  destination: "RETRY" | "DLQ";
  topic: string;
  reconsumeTimes: number;
  deliverTimeMs: number | null;
}

export async function sendBack(
  env: Env,
  group: string,
  from: MessageQueue,
  queueOffset: number,
  options: { delayLevel?: number | undefined; maxReconsumeTimes?: number | undefined },
): Promise<SendBackResult> {
  const { mq } = await resolveQueue(env, { broker: from.brokerName, topic: from.topic, queueId: String(from.queueId) }, "read");
  const entry = await callRpc(() => queueStub(env, mq.brokerName, mq.topic, mq.queueId).getMessage(queueOffset));
  if (!entry) throw new MQError("MESSAGE_NOT_FOUND", `no message at offset ${queueOffset} of ${mq.topic}/${mq.brokerName}/${mq.queueId}`);
  const original = entry.message;
  const maxReconsumeTimes = options.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES;
  const reconsumeTimes = original.reconsumeTimes + 1;
  const properties: Record<string, string> = {
    ...original.properties,
    RETRY_TOPIC: original.properties.RETRY_TOPIC ?? mq.topic,
    ORIGIN_MESSAGE_ID: original.properties.ORIGIN_MESSAGE_ID ?? original.msgId,
    RECONSUME_TIME: String(reconsumeTimes),
    MAX_RECONSUME_TIMES: String(maxReconsumeTimes),
  };
  delete properties.DELAY;
  const message: StoredMessage = { ...original, reconsumeTimes, properties };
  const config = readConfig(env);
  const step = nextRetryStep({
    reconsumeTimes: original.reconsumeTimes,
    maxReconsumeTimes,
    delayLevel: options.delayLevel,
    maxDelayLevel: config.delayLevelsMs.length,
  });

  if (step.destination === "DLQ") {
    const topic = dlqTopic(group);
    // One dead-letter queue per broker, created on first use (RocketMQ: DLQ_NUMS_PER_GROUP = 1).
    await upsertTopic(env, topic, { queueNums: 1 }, "createIfAbsent");
    await callRpc(() => queueStub(env, mq.brokerName, topic, 0).append([message], { mq: { topic, brokerName: mq.brokerName, queueId: 0 } }));
    return { destination: "DLQ", topic, reconsumeTimes, deliverTimeMs: null };
  }
  const level = step.delayLevel;
  message.properties.DELAY = String(level);
  const topic = retryTopic(group);
  await upsertTopic(env, topic, { queueNums: 1 }, "createIfAbsent");
  const dueAt = Date.now() + delayForLevel(config.delayLevelsMs, level);
  const retryMq = { topic, brokerName: mq.brokerName, queueId: 0 };
  await callRpc(() => queueStub(env, mq.brokerName, topic, 0).appendDelayed(retryMq, message, dueAt, level));
  return { destination: "RETRY", topic, reconsumeTimes, deliverTimeMs: dueAt };
}
