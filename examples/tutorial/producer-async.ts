/** Simple producer, asynchronous send: send returns at once and a callback reports each result (RocketMQ's AsyncProducer). */
import { Producer } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "AsyncTopicTest";

const producer = new Producer({ endpoint, group: "async_producer_group" });
await producer.start();
const count = 10;
let pending = count; // as the tutorial's CountDownLatch
let allDone!: () => void;
const done = new Promise<void>((resolve) => (allDone = resolve));
for (let i = 0; i < count; i++) {
  // Resolves as soon as the send is under way; the callback runs when the broker answers.
  await producer.send(
    { topic, tags: "TagA", keys: ["OrderID188"], body: `Hello world ${i}` },
    {
      onSuccess(result) {
        console.log(`${result.sendStatus} index=${i} msgId=${result.msgId}`);
        if (--pending === 0) allDone();
      },
      onException(error) {
        console.log(`FAILED index=${i} ${String(error)}`);
        if (--pending === 0) allDone();
      },
    },
  );
}
await done;
await producer.shutdown();
