/** Broadcasting consumer: every member of the group receives every message, each keeping its own offsets (RocketMQ's BroadcastConsumer). */
import { ConsumeConcurrentlyStatus, Producer, PushConsumer, bodyText, concurrently } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "BroadcastTopicTest";

const producer = new Producer({ endpoint, group: "broadcast_producer_group" });
await producer.start();
const sent = new Set<string>();
for (let i = 0; i < 5; i++) sent.add((await producer.send({ topic, tags: "TagA", body: `Hello RocketMQ ${i}` })).msgId);
await producer.shutdown();

// Two members of one group, as two processes would be: in BROADCASTING each gets all five messages.
let giveUp!: () => void;
const gaveUp = new Promise<void>((resolve) => (giveUp = resolve));
const members = ["consumer-1", "consumer-2"].map((name) => {
  const consumer = new PushConsumer({
    endpoint,
    group: "broadcast_consumer_group",
    messageModel: "BROADCASTING",
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
  });
  consumer.subscribe(topic, "TagA || TagC || TagD");
  const waiting = new Set(sent);
  const finished = new Promise<void>((resolve) => {
    consumer.registerMessageListener(
      concurrently(async (msgs) => {
        for (const m of msgs) {
          if (!waiting.delete(m.msgId)) continue; // sent by an earlier run of this example
          console.log(`${name} received msgId=${m.msgId} queue=${m.brokerName}:${m.queueId} body="${bodyText(m)}"`);
        }
        if (waiting.size === 0) resolve();
        return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
      }),
    );
  });
  return { consumer, waiting, finished };
});
for (const { consumer } of members) await consumer.start();
const timer = setTimeout(giveUp, 30_000); // or gives up after 30 s
await Promise.race([Promise.all(members.map((m) => m.finished)), gaveUp]);
clearTimeout(timer);
for (const { consumer } of members) await consumer.shutdown();
if (members.some((m) => m.waiting.size > 0)) throw new Error("timed out before every member received every message");
