/** Transactional producer: a half message becomes visible only when the local transaction commits, decided at once or on the broker's check-back (RocketMQ's TransactionProducer). */
import { ConsumeConcurrentlyStatus, PushConsumer, TransactionProducer, bodyText, concurrently, type LocalTransactionState } from "flaremq";

const endpoint = process.env.FLAREMQ_ENDPOINT ?? "http://127.0.0.1:8787";
const topic = "TransactionTopicTest";

// How message i's local transaction goes (i % 4): decided when it is sent, or still open then
// (UNKNOW) and found decided when the broker checks back.
const outcomes: { atSend: LocalTransactionState; atCheck?: LocalTransactionState }[] = [
  { atSend: "COMMIT_MESSAGE" },
  { atSend: "ROLLBACK_MESSAGE" },
  { atSend: "UNKNOW", atCheck: "COMMIT_MESSAGE" },
  { atSend: "UNKNOW", atCheck: "ROLLBACK_MESSAGE" },
];
const run = Date.now().toString(36); // message keys of this run: `${run}-${i}`
const localTransactions = new Map<string, LocalTransactionState>(); // the application's own record, by message key
const toCheck = new Set<string>(); // undecided at send: the broker must check them back
const toReceive = new Set<string>(); // committed: the consumer must receive them
let finish!: () => void;
const finished = new Promise<void>((resolve) => (finish = resolve));
const finishWhenDone = (): void => {
  if (toCheck.size === 0 && toReceive.size === 0) finish();
};

const producer = new TransactionProducer({
  endpoint,
  group: "transaction_producer_group",
  transactionListener: {
    executeLocalTransaction(message, i) {
      const outcome = outcomes[Number(i) % outcomes.length]!;
      localTransactions.set(String(message.keys), outcome.atCheck ?? outcome.atSend);
      return outcome.atSend;
    },
    checkLocalTransaction(message) {
      const key = message.keys.join(" ");
      const state = localTransactions.get(key) ?? "ROLLBACK_MESSAGE"; // no record: it never committed (an earlier run's)
      console.log(`check key=${key} -> ${state}`);
      toCheck.delete(key);
      finishWhenDone();
      return state;
    },
  },
});
await producer.start();

const tags = ["TagA", "TagB", "TagC", "TagD", "TagE"];
for (let i = 0; i < 8; i++) {
  const key = `${run}-${i}`;
  const outcome = outcomes[i % outcomes.length]!;
  if (outcome.atSend === "UNKNOW") toCheck.add(key);
  if ((outcome.atCheck ?? outcome.atSend) === "COMMIT_MESSAGE") toReceive.add(key);
  // CHECK_IMMUNITY_TIME_IN_SECONDS: checked back after 1 s instead of the broker's TRANSACTION_TIMEOUT_MS (6 s).
  const message = { topic, tags: tags[i % tags.length]!, keys: [key], body: `Hello RocketMQ ${i}`, properties: { CHECK_IMMUNITY_TIME_IN_SECONDS: "1" } };
  const result = await producer.sendMessageInTransaction(message, i);
  console.log(`${result.sendStatus} key=${key} msgId=${result.msgId} local=${result.localTransactionState}`);
}

const consumer = new PushConsumer({ endpoint, group: "transaction_consumer_group", consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
consumer.subscribe(topic, "*");
consumer.registerMessageListener(
  concurrently(async (msgs) => {
    for (const m of msgs) {
      const key = m.keys.join(" ");
      if (!toReceive.delete(key)) continue; // sent by an earlier run of this example
      console.log(`received key=${key} tag=${m.tags} body="${bodyText(m)}"`);
    }
    finishWhenDone();
    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  }),
);
await consumer.start();
const timer = setTimeout(finish, 30_000); // or gives up after 30 s
await finished;
clearTimeout(timer);
await consumer.shutdown();
await producer.shutdown(); // stops answering checks
if (toCheck.size > 0 || toReceive.size > 0) throw new Error(`timed out: ${toReceive.size} not received, ${toCheck.size} not checked`);
