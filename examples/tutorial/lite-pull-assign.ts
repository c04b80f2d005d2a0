/** Lite pull consumer, assign: the application picks queues and start offsets (seek) and commits itself (RocketMQ's LitePullConsumerAssign). */
import { LitePullConsumer, Producer, bodyText, type MessageQueue } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "LitePullAssignTopic";
const queueName = (mq: MessageQueue): string => `${mq.brokerName}:${mq.queueId}`;

// Messages round robin over every queue of the topic; where this run's start on each queue.
const producer = new Producer({ endpoint, group: "lite_pull_assign_producer" });
await producer.start();
const sent: { msgId: string; queue: string }[] = [];
const firstOffset = new Map<string, number>();
for (let i = 0; i < 16; i++) {
  const result = await producer.send({ topic, tags: "TagA", body: `Hello RocketMQ ${i}` });
  const queue = queueName(result.messageQueue);
  sent.push({ msgId: result.msgId, queue });
  if (!firstOffset.has(queue)) firstOffset.set(queue, result.queueOffset);
}
await producer.shutdown();

const consumer = new LitePullConsumer({ endpoint, group: "lite_pull_assign_group", autoCommit: false });
const queues = await consumer.fetchMessageQueues(topic);
const assigned = queues.slice(0, queues.length / 2); // the first half of the queues, as the tutorial does
consumer.assign(assigned);
await consumer.start();
for (const mq of assigned) {
  // Start at this run's first message there (the tutorial seeks to offset 10), or at the end if it sent none there.
  const offset = firstOffset.get(queueName(mq));
  if (offset === undefined) await consumer.seekToEnd(mq);
  else consumer.seek(mq, offset);
}
const expected = sent.filter((s) => assigned.some((mq) => queueName(mq) === s.queue)).map((s) => s.msgId);
console.log(`assigned ${assigned.map(queueName).join(" ")}; sent 16 messages, ${expected.length} to them`);

const received = new Set<string>();
const missing = (): number => expected.filter((msgId) => !received.has(msgId)).length;
const deadline = Date.now() + 30_000; // gives up after 30 s
while (missing() > 0 && Date.now() < deadline) {
  for (const m of await consumer.poll(1000)) {
    received.add(m.msgId);
    console.log(`received msgId=${m.msgId} queue=${queueName(m)} offset=${m.queueOffset} body="${bodyText(m)}"`);
  }
  await consumer.commitSync(); // autoCommit is off: the group's offsets move only here
}
await consumer.shutdown();
if (missing() > 0) throw new Error(`timed out, ${missing()} messages not received`);
