/**
 * Dead letters of push subscriptions: a message that failed maxRetries + 1 deliveries goes to
 * `%DLQ%<group>` (queue 0 of the same broker, created on first use, as RocketMQ's
 * DLQ_NUMS_PER_GROUP = 1) with the properties a failed push consumer's message gets
 * (workers/groups/sendback.ts: RETRY_TOPIC, ORIGIN_MESSAGE_ID, RECONSUME_TIME,
 * MAX_RECONSUME_TIMES), so the DLQ tools resend it to its topic. The queue object appends them
 * itself, before it commits the round that failed them: a round lost to a crash after the
 * append appends them again, and the DLQ queue's recent-id check folds the repeat.
 */
import type { Env } from "../../cluster/env.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { upsertTopic } from "../../cluster/topic-registry.js";
import { dlqTopic } from "../../protocol/consumer.js";
import type { MessageQueue, StoredMessage } from "../../protocol/message.js";
import type { DeadLetter } from "./push-plan.js";

export async function appendPushDeadLetters(env: Env, group: string, from: MessageQueue, dead: readonly DeadLetter[], maxRetries: number): Promise<void> {
  if (dead.length === 0) return;
  const topic = dlqTopic(group);
  await upsertTopic(env, topic, { queueNums: 1 }, "createIfAbsent");
  const messages: StoredMessage[] = dead.map(({ entry, attempts }) => {
    const original = entry.message;
    const reconsumeTimes = original.reconsumeTimes + attempts;
    const properties: Record<string, string> = {
      ...original.properties,
      RETRY_TOPIC: original.properties.RETRY_TOPIC ?? from.topic,
      ORIGIN_MESSAGE_ID: original.properties.ORIGIN_MESSAGE_ID ?? original.msgId,
      RECONSUME_TIME: String(reconsumeTimes),
      MAX_RECONSUME_TIMES: String(maxRetries),
    };
    delete properties.DELAY;
    return { ...original, reconsumeTimes, properties };
  });
  const dlq = { topic, brokerName: from.brokerName, queueId: 0 };
  await callRpc(() => queueStub(env, from.brokerName, topic, 0).append(messages, { mq: dlq }));
}
