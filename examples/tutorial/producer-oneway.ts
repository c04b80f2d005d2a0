/** Simple producer, oneway send: no result and no callback, fastest and may lose a message, for logs (RocketMQ's OnewayProducer). */
import { Producer } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "OnewayTopicTest";

const producer = new Producer({ endpoint, group: "oneway_producer_group" });
await producer.start();
for (let i = 0; i < 10; i++) {
  await producer.sendOneway({ topic, tags: "TagA", body: `Hello RocketMQ ${i}` });
  console.log(`sent oneway index=${i}`);
}
await producer.shutdown(); // waits for the oneway sends still on the wire
