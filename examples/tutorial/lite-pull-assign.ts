/** Lite pull consumer, assign: the application picks queues and start offsets (seek) and commits itself (RocketMQ's LitePullConsumerAssign). */
import { Admin, LitePullConsumer, Producer, bodyText, type MessageQueue } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "LitePullAssignTopic";
await new Admin({ endpoint }).createTopic(topic, { queueNums: 4 });
const queueName = (mq: MessageQueue): string => `${mq.brokerName}:${mq.queueId}`;

const consumer = new LitePullConsumer({ endpoint, group: "lite_pull_assign_group", autoCommit: false });
const queues = await consumer.fetchMessageQueues(topic);
const assigned = queues.slice(0, queues.length / 2); // the first half of the queues, as the tutorial does
consumer.assign(assigned);
await consumer.start();
for (const mq of assigned) await consumer.seekToEnd(mq); // start after what is there already (the tutorial seeks to offset 10)
console.log(`assigned ${assigned.map(queueName).join(" ")}`);

// Messages round robin over every queue: this consumer gets those sent to its queues.
const producer = new Producer({ endpoint, group: "lite_pull_assign_producer" });
await producer.start();
const expected = new Set<string>();
for (let i = 0; i < 16; i++) {
  const result = await producer.send({ topic, tags: "TagA", body: `Hello RocketMQ ${i}` });
  if (assigned.some((mq) => queueName(mq) === queueName(result.messageQueue))) expected.add(result.msgId);
}
await producer.shutdown();
console.log(`sent 16 messages, ${expected.size} to the assigned queues`);

const received = new Set<string>();
const missing = (): number => [...expected].filter((msgId) => !received.has(msgId)).length;
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
