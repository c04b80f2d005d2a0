/** Async, oneway, ordered and batch sends through the real server and client. */
import { describe, expect } from "vitest";
import { Producer, PullConsumer, bodyText, splitBatches, type MessageExt, type MessageQueue, type SendResult } from "../../client/index.js";
import { it } from "../fixture.js";
import { codeOf, http, uniqueName, waitFor, type TestServer } from "../helpers.js";

async function drainTopic(server: TestServer, topic: string, expected: number, timeoutMs = 10_000): Promise<Map<string, MessageExt[]>> {
  const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
  const queues = await consumer.fetchSubscribeMessageQueues(topic);
  const byQueue = new Map<string, MessageExt[]>();
  const offsets = new Map<MessageQueue, number>(queues.map((q) => [q, 0]));
  let total = 0;
  // Reads every queue again until `expected` messages came; on a timeout the caller's
  // assertions say what is missing, so what came is returned all the same.
  await waitFor(
    `${expected} messages of ${topic}`,
    async () => {
      for (const mq of queues) {
        const r = await consumer.pull(mq, "*", offsets.get(mq)!, 32, { maxWaitMs: 0 });
        if (r.pullStatus !== "FOUND") continue;
        const key = `${mq.brokerName}/${mq.queueId}`;
        byQueue.set(key, [...(byQueue.get(key) ?? []), ...r.msgFoundList]);
        offsets.set(mq, r.nextBeginOffset);
        total += r.msgFoundList.length;
      }
      return total >= expected;
    },
    timeoutMs,
  ).catch(() => undefined);
  return byQueue;
}

describe("async send", () => {
  it("delivers 200 callback sends, every callback succeeds, in-flight cap respected", async ({ server, admin }) => {
    const topic = uniqueName("Async");
    await admin.createTopic(topic, { queueNums: 2 });
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg"), maxInflightSends: 16 });
    await producer.start();
    const successes: SendResult[] = [];
    const failures: unknown[] = [];
    let allDone!: () => void;
    const done = new Promise<void>((r) => (allDone = r));
    for (let i = 0; i < 200; i++) {
      await producer.send(
        { topic, body: `async-${i}` },
        {
          onSuccess: (r) => {
            successes.push(r);
            if (successes.length + failures.length === 200) allDone();
          },
          onException: (e) => {
            failures.push(e);
            if (successes.length + failures.length === 200) allDone();
          },
        },
      );
      expect(producer.inflightStats.inUse).toBeLessThanOrEqual(16);
    }
    await done;
    expect(failures).toEqual([]);
    expect(successes.length).toBe(200);
    expect(producer.inflightStats.peak).toBe(16); // the cap was reached, never passed
    const received = [...(await drainTopic(server, topic, 200)).values()].flat();
    expect(received.map(bodyText).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `async-${i}`).sort());
  });

  it("pipelines promise sends: 64 outstanding sends share the connection pool", async ({ server, admin }) => {
    const topic = uniqueName("Pipeline");
    await admin.createTopic(topic, { queueNums: 4 });
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg") });
    await producer.start();
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => producer.send({ topic, body: `p-${i}` })));
    expect(new Set(results.map((r) => r.msgId)).size).toBe(64);
    expect(producer.inflightStats.peak).toBeGreaterThan(1);
  });
});

describe("oneway send", () => {
  it("delivers 50 oneway sends", async ({ server, admin }) => {
    const topic = uniqueName("Oneway");
    await admin.createTopic(topic, { queueNums: 2 });
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg") });
    await producer.start();
    for (let i = 0; i < 50; i++) await producer.sendOneway({ topic, body: `oneway-${i}` });
    await producer.shutdown();
    const received = [...(await drainTopic(server, topic, 50)).values()].flat();
    expect(received.map(bodyText).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `oneway-${i}`).sort());
  });

  it("is answered 202 before the write is durable", async ({ server, admin }) => {
    const topic = uniqueName("Oneway202");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const res = await http(`${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages?oneway=true`, {
      method: "POST",
      body: { messages: [{ body: "fire", bodyEncoding: "utf8" }] },
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(true);
  });
});

describe("ordered send", () => {
  it("keeps each sharding key in one queue, in send order, when sends are not awaited", async ({ server, admin, producer }) => {
    const topic = uniqueName("Ordered");
    await admin.createTopic(topic, { queueNums: 4 });
    const keys = ["order-A", "order-B", "order-C"];
    const sends: Promise<SendResult>[] = [];
    // Ordered sends of one key queue behind each other and, as in RocketMQ, the send timeout counts
    // that wait: 100 in a row can pass the default 3 s on a loaded 2-core machine. This test is about
    // order, so each send may take as long as it needs.
    for (let i = 0; i < 100; i++) {
      for (const key of keys) sends.push(producer.send({ topic, body: `${key}:${i}`, keys: key }, { shardingKey: key, timeoutMs: 60_000 }));
    }
    const results = await Promise.all(sends);
    for (const key of keys) {
      const queuesOfKey = new Set(results.filter((r, j) => keys[j % 3] === key).map((r) => `${r.messageQueue.brokerName}/${r.messageQueue.queueId}`));
      expect(queuesOfKey.size).toBe(1);
    }
    const byQueue = await drainTopic(server, topic, 300);
    for (const key of keys) {
      const mine = [...byQueue.values()].flat().filter((m) => m.keys[0] === key);
      expect(mine.length).toBe(100);
      expect(new Set(mine.map((m) => `${m.brokerName}/${m.queueId}`)).size).toBe(1);
      const inOffsetOrder = [...mine].sort((a, b) => a.queueOffset - b.queueOffset).map(bodyText);
      expect(inOffsetOrder).toEqual(Array.from({ length: 100 }, (_, i) => `${key}:${i}`));
    }
  });

  it("uses a MessageQueueSelector with its argument", async ({ admin, producer }) => {
    const topic = uniqueName("Selector");
    await admin.createTopic(topic, { queueNums: 4 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer.send({ topic, body: `s-${i}` }, { selector: (mqs, _m, arg) => mqs[(arg as number) % mqs.length]!, arg: 5 }),
      ),
    );
    const queues = new Set(results.map((r) => `${r.messageQueue.brokerName}/${r.messageQueue.queueId}`));
    expect([...queues]).toEqual(["broker-b/1"]); // 8 queues: index 5 is broker-b queue 1
    expect(results.map((r) => r.queueOffset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe("batch send", () => {
  it("stores 100 messages in one batch with consecutive offsets and returns every id", async ({ server, admin, producer }) => {
    const topic = uniqueName("Batch");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send({ topic, body: "before" });
    const batch = Array.from({ length: 100 }, (_, i) => ({ topic, body: `b-${i}`, tags: "Batch", keys: [`k${i}`] }));
    const result = await producer.send(batch);
    expect(result.queueOffset).toBe(1);
    expect(result.msgIds.length).toBe(100);
    expect(result.offsetMsgIds.length).toBe(100);
    expect(new Set(result.msgIds).size).toBe(100);
    expect(result.msgId).toBe(result.msgIds.join(","));
    const messages = [...(await drainTopic(server, topic, 101)).values()].flat();
    expect(messages.map((m) => m.queueOffset)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(messages.slice(1).map((m) => m.msgId)).toEqual(result.msgIds);
    for (const [i, id] of result.offsetMsgIds.entries()) {
      expect(bodyText(await admin.viewMessage(id))).toBe(`b-${i}`);
    }
    const stats = (await admin.queueStats({ topic, brokerName: "broker-a", queueId: 0 })) as unknown as { rowsWritten: number };
    // One row for the single send; the whole keyed batch costs one log row plus one key row.
    expect(stats.rowsWritten).toBe(3);
  });

  it("stores none of a batch that holds one invalid message", async ({ server, admin }) => {
    const topic = uniqueName("Atomic");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const res = await http(`${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages`, {
      method: "POST",
      body: { messages: [{ body: "b2s=" }, { body: "b2s=" }, { body: "" }, { body: "b2s=" }] },
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: "MESSAGE_ILLEGAL" });
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    expect(await consumer.maxOffset({ topic, brokerName: "broker-a", queueId: 0 })).toBe(0);
  });

  it("refuses batches with a delay, of mixed topics, or over 4 MiB", async ({ server, admin, producer }) => {
    const topic = uniqueName("BatchRules");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    expect(
      await codeOf(
        producer.send([
          { topic, body: "a" },
          { topic, body: "b", delayTimeLevel: 1 },
        ]),
      ),
    ).toBe("BATCH_DELAY_NOT_SUPPORTED");
    expect(
      await codeOf(
        producer.send([
          { topic, body: "a" },
          { topic: `${topic}x`, body: "b" },
        ]),
      ),
    ).toBe("MESSAGE_ILLEGAL");
    const big = new Uint8Array(1024 * 1024);
    expect(await codeOf(producer.send(Array.from({ length: 5 }, () => ({ topic, body: big }))))).toBe("MESSAGE_BODY_TOO_LARGE");
    const res = await http(`${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages`, {
      method: "POST",
      body: { messages: [{ body: "eA==" }, { body: "eA==", delayTimeLevel: 2 }] },
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: "BATCH_DELAY_NOT_SUPPORTED" });
    // splitBatches cuts the same list into batches the broker takes.
    const parts = splitBatches(Array.from({ length: 5 }, () => ({ topic, body: big })));
    expect(parts.map((p) => p.length)).toEqual([4, 1]);
    const results = [];
    for (const part of parts) results.push(await producer.send(part));
    expect(results.map((r) => r.queueOffset)).toEqual([0, 4]);
  });
});

describe("oneway refusals", () => {
  it("refuses a oneway send that could never be stored with its 4xx, not a 202", async ({ server, admin }) => {
    const topic = uniqueName("OnewayBad");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const q = `${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages?oneway=true`;
    const delayedBatch = await http(q, { method: "POST", body: { messages: [{ body: "eA==" }, { body: "eA==", delayTimeLevel: 1 }] } });
    expect({ status: delayedBatch.status, code: delayedBatch.body.code }).toEqual({ status: 400, code: "BATCH_DELAY_NOT_SUPPORTED" });
    const txBatch = await http(q, { method: "POST", body: { messages: [{ body: "eA==" }, { body: "eA==" }], transaction: { producerGroup: "pg" } } });
    expect({ status: txBatch.status, code: txBatch.body.code }).toEqual({ status: 400, code: "MESSAGE_ILLEGAL" });
    const tooFar = await http(q, { method: "POST", body: { messages: [{ body: "eA==", deliverTimeMs: Date.now() + 30 * 86_400_000 }] } });
    expect({ status: tooFar.status, code: tooFar.body.code }).toEqual({ status: 400, code: "DELIVER_TIME_ILLEGAL" });
  });
});
