/** Filter by tag: the consumer subscribes to "TagA || TagC" and the broker never sends it TagB (RocketMQ's TagFilterProducer and TagFilterConsumer). */
import { ConsumeConcurrentlyStatus, Producer, PushConsumer, bodyText, concurrently } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "TagFilterTest";

const tags = ["TagA", "TagB", "TagC"];
const producer = new Producer({ endpoint, group: "tag_filter_producer" });
await producer.start();
const sent = new Set<string>(); // everything this run sent
const waiting = new Set<string>(); // what the subscription should deliver
for (let i = 0; i < 15; i++) {
  const tag = tags[i % tags.length]!;
  const result = await producer.send({ topic, tags: tag, body: `Hello world ${i}` });
  console.log(`${result.sendStatus} tag=${tag} msgId=${result.msgId}`);
  sent.add(result.msgId);
  if (tag !== "TagB") waiting.add(result.msgId);
}
await producer.shutdown();

const consumer = new PushConsumer({ endpoint, group: "tag_filter_consumer", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, "TagA || TagC"); // filtered in the queue: TagB messages are not sent to this consumer at all
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));
consumer.registerMessageListener(
  concurrently(async (msgs) => {
    for (const m of msgs) {
      if (!sent.has(m.msgId)) continue; // sent by an earlier run of this example
      waiting.delete(m.msgId);
      console.log(`received tag=${m.tags} msgId=${m.msgId} body="${bodyText(m)}"`);
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
