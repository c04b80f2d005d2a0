/**
 * Dead letters of SimpleConsumer (POP) groups: a message received more than maxReconsumeTimes
 * times goes to `%DLQ%<group>` as a failed push/pull message does (workers/groups/sendback.ts),
 * with the same properties, so the DLQ tools (workers/groups/dlq.ts) resend it to its topic.
 * The queue claims such messages in a receive (durable-objects/queue/pop.ts); this appends them
 * and then acks the claims. A claim lost to a crash lapses and is made again: at least once,
 * and a repeated append of one msgId is folded by the DLQ queue's recent-id check.
 */
import { dlqTopic } from "../../protocol/consumer.js";
import type { MessageQueue, StoredMessage } from "../../protocol/message.js";
import type { Env } from "../../cluster/env.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { upsertTopic } from "../../cluster/topic-registry.js";

type PopMessage = Awaited<ReturnType<ReturnType<typeof queueStub>["popReceive"]>>["deadLetters"][number];

export async function moveToDeadLetters(env: Env, group: string, from: MessageQueue, dead: readonly PopMessage[], maxReconsumeTimes: number): Promise<void> {
  if (dead.length === 0) return;
  const topic = dlqTopic(group);
  // One dead-letter queue per broker, created on first use (RocketMQ: DLQ_NUMS_PER_GROUP = 1).
  await upsertTopic(env, topic, { queueNums: 1 }, "createIfAbsent");
  const messages: StoredMessage[] = dead.map(({ entry, reconsumeTimes }) => {
    const original = entry.message;
    const properties: Record<string, string> = {
      ...original.properties,
      RETRY_TOPIC: original.properties.RETRY_TOPIC ?? from.topic,
      ORIGIN_MESSAGE_ID: original.properties.ORIGIN_MESSAGE_ID ?? original.msgId,
      RECONSUME_TIME: String(reconsumeTimes + 1),
      MAX_RECONSUME_TIMES: String(maxReconsumeTimes),
    };
    delete properties.DELAY;
    return { ...original, reconsumeTimes: reconsumeTimes + 1, properties };
  });
  const dlq = { topic, brokerName: from.brokerName, queueId: 0 };
  await callRpc(() => queueStub(env, from.brokerName, topic, 0).append(messages, { mq: dlq }));
  const source = queueStub(env, from.brokerName, from.topic, from.queueId);
  await callRpc(() =>
    source.popAck(
      group,
      dead.map((d) => ({ offset: d.entry.queueOffset, nonce: d.nonce })),
    ),
  );
}
