/** Filter by SQL92: the consumer selects on tags and a user property, "a BETWEEN 0 AND 3", in the broker (RocketMQ's SqlFilterProducer and SqlFilterConsumer). */
import { ConsumeConcurrentlyStatus, MessageSelector, Producer, PushConsumer, bodyText, concurrently } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "SqlFilterTest";

const tags = ["TagA", "TagB", "TagC"];
const producer = new Producer({ endpoint, group: "sql_filter_producer" });
await producer.start();
const sent = new Set<string>();
const waiting = new Set<string>();
for (let i = 0; i < 10; i++) {
  const tag = tags[i % tags.length]!;
  const result = await producer.send({ topic, tags: tag, properties: { a: String(i) }, body: `Hello RocketMQ ${i}` });
  console.log(`${result.sendStatus} tag=${tag} a=${i} msgId=${result.msgId}`);
  sent.add(result.msgId);
  if ((tag === "TagA" || tag === "TagB") && i <= 3) waiting.add(result.msgId);
}
await producer.shutdown();

const consumer = new PushConsumer({ endpoint, group: "sql_filter_consumer", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, MessageSelector.bySql("(TAGS is not null and TAGS in ('TagA', 'TagB')) and (a is not null and a between 0 and 3)"));
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));
consumer.registerMessageListener(
  concurrently(async (msgs) => {
    for (const m of msgs) {
      if (!sent.has(m.msgId)) continue; // sent by an earlier run of this example
      waiting.delete(m.msgId);
      console.log(`received tag=${m.tags} a=${m.properties.a} msgId=${m.msgId} body="${bodyText(m)}"`);
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
