/** Delayed (scheduled) messages: a message sent with a delay level is delivered only after that delay (RocketMQ's ScheduledMessageProducer and Consumer). */
import { ConsumeConcurrentlyStatus, Producer, PushConsumer, concurrently } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "ScheduledTopicTest";

// Delay level 1 is 1 s with the default table (1s 5s 10s 30s 1m ... 2h); the tutorial uses level 3, 10 s.
const delayTimeLevel = 1;
const producer = new Producer({ endpoint, group: "scheduled_producer_group" });
await producer.start();
const waiting = new Set<string>();
for (let i = 0; i < 5; i++) {
  const result = await producer.send({ topic, tags: "TagA", body: `Hello scheduled message ${i}`, delayTimeLevel });
  // Stored but not yet in its queue: no offset until it is due.
  console.log(`${result.sendStatus} msgId=${result.msgId} level=${delayTimeLevel} offset=${result.queueOffset} deliverAt=${result.deliverTimeMs}`);
  waiting.add(result.msgId);
}
await producer.shutdown();

const consumer = new PushConsumer({ endpoint, group: "scheduled_consumer_group", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, "*");
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));
consumer.registerMessageListener(
  concurrently(async (msgs) => {
    for (const m of msgs) {
      if (!waiting.delete(m.msgId)) continue; // sent by an earlier run of this example
      console.log(`received msgId=${m.msgId} delayMs=${Date.now() - m.bornTimestamp}`); // at least the level's delay after it was sent
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
