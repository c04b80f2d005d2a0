/** Batch send: messages of one topic stored all or none in one request, and a long list cut into batches under the caps (RocketMQ's SimpleBatchProducer and SplitBatchProducer). */
import { Producer, splitBatches, type Message } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "BatchTest";

const producer = new Producer({ endpoint, group: "batch_producer_group" });
await producer.start();

// A small batch: one queue, consecutive offsets, one result listing every msgId.
const messages: Message[] = [0, 1, 2].map((i) => ({ topic, tags: "TagA", keys: [`OrderID00${i}`], body: `Hello world ${i}` }));
const result = await producer.send(messages);
const { brokerName, queueId } = result.messageQueue;
console.log(`${result.sendStatus} batch=${messages.length} queue=${brokerName}:${queueId} offset=${result.queueOffset} msgIds=${result.msgIds?.join(",")}`);

// A list over the caps of one batch (1,024 messages, 4 MiB of bodies): splitBatches cuts it, as the tutorial's ListSplitter.
const large: Message[] = Array.from({ length: 2500 }, (_, i) => ({ topic, tags: "Tag", keys: [`OrderID${i}`], body: `Hello world ${i}` }));
for (const batch of splitBatches(large)) {
  const r = await producer.send(batch);
  console.log(`${r.sendStatus} batch=${batch.length} queue=${r.messageQueue.brokerName}:${r.messageQueue.queueId} offset=${r.queueOffset}`);
}
await producer.shutdown();
