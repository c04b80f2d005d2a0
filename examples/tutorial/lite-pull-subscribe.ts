/** Lite pull consumer, subscribe: the group's rebalance assigns the queues and poll() hands out batches (RocketMQ's LitePullConsumerSubscribe). */
import { LitePullConsumer, Producer, bodyText } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "LitePullSubscribeTopic";

// The messages this example polls.
const producer = new Producer({ endpoint, group: "lite_pull_example_producer" });
await producer.start();
const waiting = new Set<string>();
for (let i = 0; i < 10; i++) waiting.add((await producer.send({ topic, tags: "TagA", body: `Hello RocketMQ ${i}` })).msgId);
await producer.shutdown();

const consumer = new LitePullConsumer({ endpoint, group: "lite_pull_consumer_test", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, "*");
await consumer.start();
const deadline = Date.now() + 30_000; // gives up after 30 s
while (waiting.size > 0 && Date.now() < deadline) {
  for (const m of await consumer.poll(1000)) {
    if (!waiting.delete(m.msgId)) continue; // sent by an earlier run of this example
    console.log(`received msgId=${m.msgId} queue=${m.brokerName}:${m.queueId} offset=${m.queueOffset} body="${bodyText(m)}"`);
  }
}
await consumer.shutdown(); // autoCommit: commits the offsets of everything poll() returned, and leaves the group
if (waiting.size > 0) throw new Error(`timed out, ${waiting.size} messages not received`);
