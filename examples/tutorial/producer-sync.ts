/** Simple producer, synchronous send: each send resolves once the broker stored the message (RocketMQ's SyncProducer). */
import { Producer } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "TopicTest";

const producer = new Producer({ endpoint, group: "sync_producer_group" });
await producer.start();
for (let i = 0; i < 10; i++) {
  const result = await producer.send({ topic, tags: "TagA", keys: [`KEY${i}`], body: `Hello RocketMQ ${i}` });
  const { brokerName, queueId } = result.messageQueue;
  console.log(`${result.sendStatus} msgId=${result.msgId} queue=${brokerName}:${queueId} offset=${result.queueOffset}`);
}
await producer.shutdown();
