/** Ordered producer and orderly consumer: one order's messages go to one queue and are consumed one at a time, in send order (RocketMQ's OrderedProducer and ConsumerInOrder). */
import { ConsumeOrderlyStatus, Producer, PushConsumer, bodyText, orderly, type MessageQueueSelector } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "OrderTopicTest";

// Three orders whose steps interleave, as the tutorial's order list.
const steps: [orderId: number, step: string][] = [
  [15103111039, "create"],
  [15103111065, "create"],
  [15103111039, "pay"],
  [15103117235, "create"],
  [15103111065, "pay"],
  [15103117235, "pay"],
  [15103111065, "finish"],
  [15103111039, "push"],
  [15103117235, "finish"],
  [15103111039, "finish"],
];
// The queue is picked from the order id, so an order's steps share a queue and keep their order.
// (`{ shardingKey: String(orderId) }` instead of a selector does the same with a hash.)
const byOrderId: MessageQueueSelector = (mqs, _message, orderId) => mqs[Number(orderId) % mqs.length]!;
const producer = new Producer({ endpoint, group: "ordered_producer_group" });
await producer.start();
const waiting = new Set<string>();
for (const [orderId, step] of steps) {
  const result = await producer.send({ topic, tags: "TagA", keys: [String(orderId)], body: `${orderId} ${step}` }, { selector: byOrderId, arg: orderId });
  const { brokerName, queueId } = result.messageQueue;
  console.log(`${result.sendStatus} order=${orderId} step=${step} queue=${brokerName}:${queueId} offset=${result.queueOffset}`);
  waiting.add(result.msgId);
}
await producer.shutdown();

const consumer = new PushConsumer({ endpoint, group: "orderly_consumer_group", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, "TagA");
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));
consumer.registerMessageListener(
  orderly((msgs) => {
    for (const m of msgs) {
      if (!waiting.delete(m.msgId)) continue; // sent by an earlier run of this example
      const [orderId, step] = bodyText(m).split(" ");
      console.log(`received order=${orderId} step=${step} queue=${m.brokerName}:${m.queueId} offset=${m.queueOffset}`);
    }
    if (waiting.size === 0) finish();
    return ConsumeOrderlyStatus.SUCCESS;
  }),
);
await consumer.start();
const timer = setTimeout(finish, 30_000); // or gives up after 30 s
await finished;
clearTimeout(timer);
await consumer.shutdown(); // commits the group's offsets and leaves the group
if (waiting.size > 0) throw new Error(`timed out, ${waiting.size} messages not received`);
