/** Push consumer: the group's queues are pulled for you and each message goes to a listener (RocketMQ's Consumer quick start). */
import { ConsumeConcurrentlyStatus, Producer, PushConsumer, bodyText, concurrently } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "PushTopicTest";

// The messages this example consumes.
const producer = new Producer({ endpoint, group: "push_example_producer" });
await producer.start();
const waiting = new Set<string>();
for (let i = 0; i < 10; i++) waiting.add((await producer.send({ topic, tags: "TagA", body: `Hello RocketMQ ${i}` })).msgId);
await producer.shutdown();

const consumer = new PushConsumer({ endpoint, group: "push_consumer_group", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, "*");
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));
consumer.registerMessageListener(
  concurrently(async (msgs) => {
    for (const m of msgs) {
      if (!waiting.delete(m.msgId)) continue; // sent by an earlier run of this example
      console.log(`received msgId=${m.msgId} tag=${m.tags} queue=${m.brokerName}:${m.queueId} offset=${m.queueOffset} body="${bodyText(m)}"`);
    }
    if (waiting.size === 0) finish();
    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  }),
);
await consumer.start();
const timer = setTimeout(finish, 30_000); // or gives up after 30 s
await finished;
clearTimeout(timer);
await consumer.shutdown(); // commits the group's offsets and leaves the group
if (waiting.size > 0) throw new Error(`timed out, ${waiting.size} messages not received`);
