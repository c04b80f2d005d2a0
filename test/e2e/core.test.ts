/**
 * The core message path end to end: real server (workerd via Miniflare), real client.
 */
import { describe, expect } from "vitest";
import { Producer, PullConsumer, bodyText, type MessageExt, type MessageQueue } from "../../client/index.js";
import { it } from "../fixture.js";
import { clockPast, uniqueName, waitFor } from "../helpers.js";
import { decodeFramed, FRAMED_MEDIA_TYPE } from "../../protocol/framed-messages.js";
import type { PullResultWire } from "../../protocol/message.js";

function bodyFor(i: number): Uint8Array {
  // Every byte value appears, and each body is distinct.
  const body = new Uint8Array(300 + (i % 50));
  for (let j = 0; j < body.length; j++) body[j] = (i * 7 + j) % 256;
  return body;
}

async function drain(consumer: PullConsumer, mq: MessageQueue): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  for (;;) {
    const r = await consumer.pull(mq, "*", offset, 32, { maxWaitMs: 0 });
    if (r.pullStatus !== "FOUND") {
      expect(r.pullStatus).toBe("NO_NEW_MSG");
      return out;
    }
    out.push(...r.msgFoundList);
    offset = r.nextBeginOffset;
  }
}

describe("core message path", () => {
  it("delivers 1,000 messages sent round-robin over 4 queues exactly once, in offset order, intact", async ({ server, admin }) => {
    const topic = uniqueName("RoundRobin");
    await admin.createTopic(topic, { queueNums: 2 }); // 2 per broker x 2 brokers = 4 queues
    // Each message on the next queue, as RocketMQ's default selection: without the sticky
    // queue, which puts the sends issued while a request is in flight on one queue.
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg"), autoBatchStickyQueue: false });
    await producer.start();

    const total = 1000;
    const sent = new Map<string, { i: number; queue: string; offset: number }>();
    const concurrency = 8;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const result = await producer.send({
            topic,
            body: bodyFor(i),
            tags: i % 2 === 0 ? "TagA" : "TagB",
            keys: [`order-${i}`, `user-${i % 10}`],
            properties: { index: String(i), note: "ü✓" },
          });
          expect(result.sendStatus).toBe("SEND_OK");
          const q = `${result.messageQueue.brokerName}/${result.messageQueue.queueId}`;
          sent.set(result.msgId, { i, queue: q, offset: result.queueOffset });
        }
      }),
    );
    expect(sent.size).toBe(total);

    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const queues = await consumer.fetchSubscribeMessageQueues(topic);
    expect(queues.map((q) => `${q.brokerName}/${q.queueId}`)).toEqual(["broker-a/0", "broker-a/1", "broker-b/0", "broker-b/1"]);

    const received = new Map<string, MessageExt>();
    for (const mq of queues) {
      const messages = await drain(consumer, mq);
      // Round-robin: each of the 4 queues got exactly a quarter.
      expect(messages.length).toBe(total / 4);
      expect(messages.map((m) => m.queueOffset)).toEqual(Array.from({ length: total / 4 }, (_, k) => k));
      for (const m of messages) {
        expect(received.has(m.msgId)).toBe(false);
        received.set(m.msgId, m);
      }
    }
    expect(received.size).toBe(total);
    for (const [msgId, s] of sent) {
      const m = received.get(msgId);
      expect(m).toBeDefined();
      if (!m) continue;
      expect(`${m.brokerName}/${m.queueId}`).toBe(s.queue);
      expect(m.queueOffset).toBe(s.offset);
      expect(m.topic).toBe(topic);
      expect(m.body).toEqual(bodyFor(s.i));
      expect(m.tags).toBe(s.i % 2 === 0 ? "TagA" : "TagB");
      expect(m.keys).toEqual([`order-${s.i}`, `user-${s.i % 10}`]);
      expect(m.properties).toEqual({ index: String(s.i), note: "ü✓" });
      expect(m.reconsumeTimes).toBe(0);
      expect(m.storeTimestamp).toBeGreaterThanOrEqual(m.bornTimestamp);
    }
    await producer.shutdown();
  });

  it("wakes a parked pull within 200 ms of a send", async ({ server, admin, producer }) => {
    const topic = uniqueName("LongPoll");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const [mq] = await consumer.fetchSubscribeMessageQueues(topic);
    if (!mq) throw new Error("no queue");

    const latencies: number[] = [];
    for (let round = 0; round < 3; round++) {
      let returnedAt = 0;
      const parked = consumer.pull(mq, "*", round, 32, { maxWaitMs: 10_000 }).then((r) => {
        returnedAt = performance.now();
        return r;
      });
      // The stats answer carries the queue object's count of parked pulls beside QueueStats.
      await waitFor("the pull to park", async () => ((await admin.queueStats(mq)) as { parkedPulls?: number }).parkedPulls === 1);
      expect(returnedAt).toBe(0);
      const sentAt = performance.now();
      await producer.send({ topic, body: `wake-${round}` }, { messageQueue: mq });
      const result = await parked;
      expect(result.pullStatus).toBe("FOUND");
      expect(result.msgFoundList.map(bodyText)).toEqual([`wake-${round}`]);
      latencies.push(returnedAt - sentAt);
    }
    for (const ms of latencies) expect(ms).toBeLessThan(200);
  });

  it("answers NO_NEW_MSG after the requested wait when nothing arrives", async ({ server, admin }) => {
    const topic = uniqueName("Idle");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-b"] });
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const mq = { topic, brokerName: "broker-b", queueId: 0 };
    const started = performance.now();
    const r = await consumer.pull(mq, "*", 0, 32, { maxWaitMs: 300 });
    expect(r.pullStatus).toBe("NO_NEW_MSG");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("filters by tag expression on the broker", async ({ server, admin, producer }) => {
    const topic = uniqueName("Tags");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    for (const tags of ["TagA", "TagB", "TagC", "", "TagA"]) {
      await producer.send({ topic, body: tags || "none", ...(tags ? { tags } : {}) }, { messageQueue: mq });
    }
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const r = await consumer.pull(mq, "TagA || TagC", 0, 32, { maxWaitMs: 0 });
    expect(r.pullStatus).toBe("FOUND");
    expect(r.msgFoundList.map((m) => m.queueOffset)).toEqual([0, 2, 4]);
    expect(r.nextBeginOffset).toBe(5);
    const none = await consumer.pull(mq, "TagZ", 0, 32, { maxWaitMs: 0 });
    expect(none.pullStatus).toBe("NO_MATCHED_MSG");
    expect(none.nextBeginOffset).toBe(5);
  });

  it("commits, fetches and searches offsets", async ({ server, admin, producer }) => {
    const topic = uniqueName("Offsets");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    // A brand-new group on a fresh queue starts at 0.
    expect(await consumer.fetchConsumeOffset(mq)).toBe(0);
    const before = Date.now();
    await clockPast(before);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await producer.send({ topic, body: `m${i}` }, { messageQueue: mq }));
    expect(results.map((r) => r.queueOffset)).toEqual([0, 1, 2, 3, 4]);
    expect(await consumer.minOffset(mq)).toBe(0);
    expect(await consumer.maxOffset(mq)).toBe(5);
    expect(await consumer.searchOffset(mq, before)).toBe(0);
    expect(await consumer.searchOffset(mq, Date.now() + 60_000)).toBe(5);
    await consumer.updateConsumeOffset(mq, 3);
    expect(await consumer.fetchConsumeOffset(mq)).toBe(3);
  });

  it("answers a pull framed (raw bodies after a JSON head) to a client that asks, and JSON with base64 bodies otherwise", async ({
    server,
    admin,
    producer,
  }) => {
    const topic = uniqueName("Framed");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    const bodies = [bodyFor(1), bodyFor(2), new TextEncoder().encode("ü✓")];
    await producer.send(
      bodies.map((body, i) => ({ topic, body, tags: `T${i}`, properties: { i: String(i) } })),
      { messageQueue: mq },
    );
    const url = `${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages?offset=0&maxNums=32&maxWaitMs=0`;

    const framed = await fetch(url, { headers: { accept: `${FRAMED_MEDIA_TYPE}, application/json` } });
    expect(framed.headers.get("content-type")).toBe(FRAMED_MEDIA_TYPE);
    expect(framed.headers.get("vary")).toMatch(/accept/i);
    const decoded = decodeFramed<PullResultWire>(new Uint8Array(await framed.arrayBuffer()))!;
    const json = (await (await fetch(url)).json()) as PullResultWire;
    expect(decoded.messages.map((m) => Array.from(m.body))).toEqual(bodies.map((b) => Array.from(b)));
    expect(json.messages.map((m) => m.body)).toEqual(bodies.map((b) => Buffer.from(b).toString("base64")));
    // The same answer either way, but for how the bodies travel.
    const strip = (r: { messages: object[] }) => ({ ...r, messages: r.messages.map((m) => ({ ...m, body: null })) });
    expect(strip(decoded)).toEqual(strip(json));
    expect(decoded.messages.map((m) => m.tags)).toEqual(["T0", "T1", "T2"]);

    // The client asks for it: what it reads is the same messages.
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const pulled = await consumer.pull(mq, "*", 0, 32, { maxWaitMs: 0 });
    expect(pulled.msgFoundList.map((m) => Array.from(m.body))).toEqual(bodies.map((b) => Array.from(b)));
    expect(pulled.msgFoundList.map((m) => m.properties.i)).toEqual(["0", "1", "2"]);

    // A refusal is JSON whatever was asked for.
    const refused = await fetch(url.replace("offset=0", "offset=x"), { headers: { accept: FRAMED_MEDIA_TYPE } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe("OFFSET_ILLEGAL");
  });
});
