/**
 * Auto-batching end to end: the producer's accumulator and the multi-queue send route
 * (POST /topics/:topic/messages) through the real server. Per-message results and errors, a
 * request where one queue refuses and the others store, order per sharding key, shutdown
 * flushing what the hold time keeps, oneway and callback sends, and whole-request refusals
 * that store nothing.
 */
import { describe, expect } from "vitest";
import { Producer, PullConsumer, bodyText, type MessageExt, type MessageQueue, type SendResult } from "../../client/index.js";
import type { MultiSendResponse } from "../../protocol/multi-send.js";
import { it } from "../fixture.js";
import { uniqueName, waitFor, type TestServer } from "../helpers.js";

/** Every message of `topic`, per queue ("broker/queueId"), in offset order. */
async function readAll(server: TestServer, topic: string, expected: number): Promise<Map<string, MessageExt[]>> {
  const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
  const queues = await consumer.fetchSubscribeMessageQueues(topic);
  const byQueue = new Map<string, MessageExt[]>();
  const offsets = new Map<MessageQueue, number>(queues.map((q) => [q, 0]));
  let total = 0;
  await waitFor(`${expected} messages of ${topic}`, async () => {
    for (const mq of queues) {
      const r = await consumer.pull(mq, "*", offsets.get(mq)!, 32, { maxWaitMs: 0 });
      if (r.pullStatus !== "FOUND") continue;
      const key = `${mq.brokerName}/${mq.queueId}`;
      byQueue.set(key, [...(byQueue.get(key) ?? []), ...r.msgFoundList]);
      offsets.set(mq, r.nextBeginOffset);
      total += r.msgFoundList.length;
    }
    return total >= expected;
  });
  return byQueue;
}

const bodiesOf = (byQueue: Map<string, MessageExt[]>) => [...byQueue.values()].flat().map(bodyText);
const text = (body: string) => ({ body, bodyEncoding: "utf8" as const });

describe("auto-batching producer", () => {
  it("concurrent sends share requests, each with its own SendResult and msgId, each stored once", async ({ server, admin }) => {
    const topic = uniqueName("AutoBatch");
    await admin.createTopic(topic, { queueNums: 4 }); // 8 queues on 2 brokers
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg"), sendMsgTimeoutMs: 30_000 });
    await producer.start();
    const sent = Array.from({ length: 96 }, (_, i) => `m-${i}`);
    const results = await Promise.all(sent.map((body) => producer.send({ topic, body })));
    const stats = producer.autoBatchStats;
    await producer.shutdown();
    expect(results.every((r) => r.sendStatus === "SEND_OK")).toBe(true);
    expect(new Set(results.map((r) => r.msgId)).size).toBe(96);
    expect(new Set(results.map((r) => `${r.messageQueue.brokerName}/${r.messageQueue.queueId}/${r.queueOffset}`)).size).toBe(96);
    expect(stats.messages).toBe(96);
    expect(stats.requests).toBeLessThan(96);
    const stored = await readAll(server, topic, 96);
    expect(bodiesOf(stored).sort()).toEqual([...sent].sort());
    // Each SendResult names where its own message is.
    const byId = new Map([...stored.values()].flat().map((m) => [m.msgId, m]));
    for (const [i, r] of results.entries()) {
      const m = byId.get(r.msgId)!;
      expect([bodyText(m), m.queueId, m.brokerName, m.queueOffset]).toEqual([sent[i], r.messageQueue.queueId, r.messageQueue.brokerName, r.queueOffset]);
    }
  });

  it("keeps the order of each sharding key", async ({ server, admin, producer }) => {
    const topic = uniqueName("AutoBatchOrder");
    await admin.createTopic(topic, { queueNums: 2 });
    const keys = ["k0", "k1", "k2", "k3", "k4"];
    const sends: Promise<SendResult>[] = [];
    for (let i = 0; i < 40; i++) for (const key of keys) sends.push(producer.send({ topic, body: `${key}:${i}` }, { shardingKey: key }));
    await Promise.all(sends);
    const stored = await readAll(server, topic, 200);
    for (const key of keys) {
      const inStoreOrder = [...stored.values()].flatMap((msgs) => msgs.map(bodyText).filter((b) => b.startsWith(`${key}:`)));
      expect(inStoreOrder).toEqual(Array.from({ length: 40 }, (_, i) => `${key}:${i}`));
    }
  });

  it("shutdown sends what the hold time keeps; callback and oneway sends arrive", async ({ server, admin }) => {
    const topic = uniqueName("AutoBatchHold");
    await admin.createTopic(topic, { queueNums: 2 });
    // A hold far longer than the test: only shutdown can send these.
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg"), autoBatchHoldMs: 600_000 });
    await producer.start();
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++)
      await producer.send(
        { topic, body: `cb-${i}` },
        { onSuccess: (r) => outcomes.push(`ok ${r.msgId.length > 0}`), onException: (e) => outcomes.push(`failed ${String(e)}`) },
      );
    const promised = producer.send({ topic, body: "promised" });
    for (let i = 0; i < 3; i++) await producer.sendOneway({ topic, body: `oneway-${i}` });
    await waitFor("the six sends held", () => producer.autoBatchStats.waiting === 6);
    expect(outcomes).toEqual([]);
    await producer.shutdown();
    expect(outcomes).toEqual(Array(5).fill("ok true"));
    expect((await promised).sendStatus).toBe("SEND_OK");
    const stored = await readAll(server, topic, 9);
    expect(bodiesOf(stored).sort()).toEqual(["cb-0", "cb-1", "cb-2", "cb-3", "cb-4", "oneway-0", "oneway-1", "oneway-2", "promised"]);
    // Held sends went together, in one request per topic at shutdown.
    expect(producer.autoBatchStats).toEqual({ requests: 1, messages: 6, waiting: 0 });
  });

  it("autoBatch: false sends each message in a request of its own", async ({ server, admin }) => {
    const topic = uniqueName("NoAutoBatch");
    await admin.createTopic(topic, { queueNums: 1 });
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg"), autoBatch: false });
    await producer.start();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic, body: `x-${i}` })));
    await producer.shutdown();
    expect(results.map((r) => r.sendStatus)).toEqual(Array(10).fill("SEND_OK"));
    expect(producer.autoBatchStats).toEqual({ requests: 0, messages: 0, waiting: 0 });
  });

  it("a broker without write permission fails only its messages, which retry on another queue", async ({ server, admin }) => {
    const topic = uniqueName("AutoBatchPerm");
    await admin.createTopic(topic, { queueNums: 2 });
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg"), sendMsgTimeoutMs: 30_000 });
    await producer.start();
    await producer.send({ topic, body: "warm" }); // the producer now caches a route with both brokers
    await admin.wipeWritePerm("broker-a");
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => producer.send({ topic, body: `p-${i}` })));
      expect(new Set(results.map((r) => r.messageQueue.brokerName))).toEqual(new Set(["broker-b"]));
    } finally {
      await admin.addWritePerm("broker-a");
      await producer.shutdown();
    }
    const stored = await readAll(server, topic, 41);
    expect(
      bodiesOf(stored)
        .filter((b) => b !== "warm")
        .sort(),
    ).toEqual(Array.from({ length: 40 }, (_, i) => `p-${i}`).sort());
  });
});

describe("multi-queue send route", () => {
  it("answers per message: refused messages and queues fail alone, the others are stored", async ({ server, admin, call }) => {
    const topic = uniqueName("Multi");
    await admin.createTopic(topic, { queueNums: 2 });
    const tooManyProps = { ...text("big-props"), properties: { p: "x".repeat(40 * 1024) } };
    const answer = await call(server.credentials, "POST", `/topics/${topic}/messages`, {
      body: {
        queues: [
          { brokerName: "broker-a", queueId: 0, messages: [text("a0"), tooManyProps, text("a1"), { ...text("late"), delayTimeLevel: 1 }] },
          { brokerName: "broker-z", queueId: 0, messages: [text("nowhere")] },
          { brokerName: "broker-b", queueId: 5, messages: [text("no-such-queue")] },
          { brokerName: "broker-b", queueId: 1, messages: [text("b0")] },
        ],
      },
    });
    expect(answer.status).toBe(200);
    const { results } = answer.body as unknown as MultiSendResponse;
    expect(results.map((r) => (r.ok ? `${r.result.messageQueue.brokerName}/${r.result.messageQueue.queueId}@${r.result.queueOffset}` : r.code))).toEqual([
      "broker-a/0@0",
      "PROPERTIES_SIZE_EXCEEDED",
      "broker-a/0@1",
      "BATCH_DELAY_NOT_SUPPORTED",
      "BROKER_NOT_EXIST",
      "QUEUE_ID_ILLEGAL",
      "broker-b/1@0",
    ]);
    const stored = await readAll(server, topic, 3);
    expect(bodiesOf(stored).sort()).toEqual(["a0", "a1", "b0"]);
    expect(stored.get("broker-a/0")!.map(bodyText)).toEqual(["a0", "a1"]);
  });

  it("a repeated msgId (a retry) gets the first result back and is stored once", async ({ server, admin, call }) => {
    const topic = uniqueName("MultiDedupe");
    await admin.createTopic(topic, { queueNums: 1 });
    const body = { queues: [{ brokerName: "broker-a", queueId: 0, messages: [{ ...text("once"), msgId: "AUTOBATCH0RETRY0001" }, text("other")] }] };
    const first = (await call(server.credentials, "POST", `/topics/${topic}/messages`, { body })).body as unknown as MultiSendResponse;
    const again = (
      await call(server.credentials, "POST", `/topics/${topic}/messages`, {
        body: { queues: [{ ...body.queues[0]!, messages: [body.queues[0]!.messages[0]!] }] },
      })
    ).body as unknown as MultiSendResponse;
    expect(first.results.map((r) => r.ok && r.result.queueOffset)).toEqual([0, 1]);
    expect(again.results.map((r) => r.ok && r.result.queueOffset)).toEqual([0]);
    const stored = await readAll(server, topic, 2);
    expect(bodiesOf(stored)).toEqual(["once", "other"]);
  });

  it("refuses a bad request as a whole with a code, storing nothing", async ({ server, admin, call }) => {
    const topic = uniqueName("MultiBad");
    await admin.createTopic(topic, { queueNums: 1 });
    const send = (body: unknown, to = topic) => call(server.credentials, "POST", `/topics/${to}/messages`, { body });
    const q = (messages: unknown[], queueId = 0) => ({ brokerName: "broker-a", queueId, messages });
    const cases: [string, unknown, string][] = [
      ["a message naming its own topic", { queues: [{ ...q([text("x")]), topic: "Other" }] }, "400 VALIDATION_FAILED"],
      ["a topic field inside a message", { queues: [q([{ ...text("x"), topic: "Other" }])] }, "400 VALIDATION_FAILED"],
      ["no queues", { queues: [] }, "400 VALIDATION_FAILED"],
      ["a queue twice", { queues: [q([text("x")]), q([text("y")])] }, "400 VALIDATION_FAILED"],
      ["too many queues", { queues: Array.from({ length: 65 }, (_, i) => q([text("x")], i)) }, "400 VALIDATION_FAILED"],
      ["too many messages", { queues: [q(Array(600).fill(text("x"))), q(Array(600).fill(text("x")), 1)] }, "400 VALIDATION_FAILED"],
      ["bodies over 4 MiB together", { queues: [q([text("x".repeat(3 << 20)), text("y".repeat(2 << 20))])] }, "413 MESSAGE_BODY_TOO_LARGE"],
    ];
    const outcomes: string[] = [];
    for (const [, body] of cases) {
      const a = await send(body);
      outcomes.push(`${a.status} ${a.code}`);
    }
    expect(outcomes).toEqual(cases.map(([, , want]) => want));
    const reserved = await send({ queues: [q([text("x")])] }, "SCHEDULE_TOPIC_XXXX");
    expect(`${reserved.status} ${reserved.code}`).toBe("403 SYSTEM_TOPIC_FORBIDDEN");
    const stats = await admin.queueStats({ topic, brokerName: "broker-a", queueId: 0 });
    expect(stats.maxOffset).toBe(0);
  });
});
