/** Pull consumer: the application picks each queue and offset, pulls, and records the group's offset itself (RocketMQ's PullConsumer). */
import { Producer, PullConsumer, bodyText } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "PullTopicTest";

// The messages this example pulls.
const producer = new Producer({ endpoint, group: "pull_example_producer" });
await producer.start();
for (let i = 0; i < 10; i++) await producer.send({ topic, tags: "TagA", body: `Hello RocketMQ ${i}` });
await producer.shutdown();

const consumer = new PullConsumer({ endpoint, group: "pull_consumer_group" });
let pulled = 0;
for (const mq of await consumer.fetchSubscribeMessageQueues(topic)) {
  let offset = Math.max(0, await consumer.fetchConsumeOffset(mq)); // -1: the group has no offset on this queue yet
  for (;;) {
    const result = await consumer.pull(mq, "*", offset, 32, { maxWaitMs: 0 }); // 0: answer at once instead of holding the pull
    console.log(`${result.pullStatus} queue=${mq.brokerName}:${mq.queueId} offset=${offset} next=${result.nextBeginOffset}`);
    if (result.pullStatus !== "FOUND") break;
    for (const m of result.msgFoundList) {
      console.log(`received msgId=${m.msgId} queue=${m.brokerName}:${m.queueId} offset=${m.queueOffset} body="${bodyText(m)}"`);
      pulled++;
    }
    offset = result.nextBeginOffset;
    await consumer.updateConsumeOffset(mq, offset); // the next run starts here
  }
}
console.log(`pulled ${pulled} messages`);
