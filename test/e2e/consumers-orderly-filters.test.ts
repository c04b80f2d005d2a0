/** Orderly consumption, tag and SQL92 filters, lite pull consumers and offset admin. */
import { describe, expect } from "vitest";
import { LitePullConsumer, MessageSelector, PushConsumer, bodyText, isMQError, orderly, type MessageExt } from "../../client/index.js";
import { FAST, FAST_LEVELS, collectingConsumer, record, waitForBalance, type Delivery } from "../consumer-helpers.js";
import { test, it } from "../fixture.js";
import { clockPast, http, quietPeriod, uniqueName, waitFor } from "../helpers.js";

test.override("serverOptions", { vars: { MESSAGE_DELAY_LEVEL: FAST_LEVELS } });

describe("orderly consumption", () => {
  it("keeps per-queue order with suspensions and across a member joining and leaving", async ({ server, admin, producer }) => {
    const topic = uniqueName("Orderly");
    const group = uniqueName("og");
    await admin.createTopic(topic, { queueNums: 2 });
    const log: Delivery[] = [];
    const suspended = new Set<string>();
    const make = (name: string) => {
      const c = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group, ...FAST, suspendCurrentQueueTimeMillis: 20 });
      c.subscribe(topic);
      c.registerMessageListener(
        orderly((msgs) => {
          for (const m of msgs) {
            const body = new TextDecoder().decode(m.body);
            // Every 7th message of a key is suspended once before it succeeds.
            if (Number(body.split("-")[2]) % 7 === 3 && !suspended.has(body)) {
              suspended.add(body);
              record(log, `${name}:suspend`, m);
              return "SUSPEND_CURRENT_QUEUE_A_MOMENT";
            }
            record(log, name, m);
          }
          return "SUCCESS";
        }),
      );
      return c;
    };
    const a = make("a");
    await a.start();
    const b = make("b");
    const keys = ["k1", "k2", "k3", "k4", "k5", "k6"];
    // Ordered sends of one key queue behind each other and, as in RocketMQ, the send timeout counts
    // that wait: 30 in a row can pass the default 3 s on a loaded 2-core machine. This test is about
    // order, so each send may take as long as it needs.
    const sendRound = async (from: number, to: number) => {
      const sends = [];
      for (let i = from; i < to; i++) for (const k of keys) sends.push(producer.send({ topic, body: `${k}-x-${i}` }, { shardingKey: k, timeoutMs: 60_000 }));
      await Promise.all(sends);
    };
    try {
      await waitFor("a's queues", () => a.assignedQueues.filter((q) => q.topic === topic).length === 4);
      await sendRound(0, 30);
      await b.start(); // joins mid-stream
      await sendRound(30, 60);
      await waitForBalance([a, b], topic, 4);
      await sendRound(60, 80);
      await a.shutdown(); // leaves mid-stream
      await sendRound(80, 100);
      await waitFor("every message", () => new Set(log.filter((d) => !d.consumer.endsWith("suspend")).map((d) => d.body)).size >= 600, 20_000);
      const done = log.filter((d) => !d.consumer.endsWith("suspend"));
      for (const k of keys) {
        // Order of first successful deliveries per key = send order; redeliveries around the
        // hand-over may repeat a message but never reorder.
        const firsts: number[] = [];
        const seen = new Set<string>();
        for (const d of done) {
          if (!d.body.startsWith(`${k}-`) || seen.has(d.body)) continue;
          seen.add(d.body);
          firsts.push(Number(d.body.split("-")[2]));
        }
        expect(firsts).toEqual(Array.from({ length: 100 }, (_, i) => i));
      }
      // A suspended message came back before anything after it in its queue.
      for (const s of log.filter((d) => d.consumer.endsWith("suspend"))) {
        const after = done.filter((d) => d.queue === s.queue && d.at >= s.at && d.queueOffset >= s.queueOffset);
        expect(after[0]?.queueOffset).toBe(s.queueOffset);
      }
    } finally {
      await a.shutdown();
      await b.shutdown();
    }
  });
});

describe("filters", () => {
  it("gives each group exactly its tag or SQL92 subset, filtered on the server", async ({ server, admin, producer }) => {
    const topic = uniqueName("Filter");
    await admin.createTopic(topic, { queueNums: 2 });
    const cases = [
      { expr: "TagA" as string | MessageSelector, match: (i: number) => i % 3 === 0 },
      { expr: "TagA || TagB", match: (i: number) => i % 3 !== 2 },
      { expr: "*", match: () => true },
      { expr: MessageSelector.bySql("a BETWEEN 3 AND 6 AND TAGS = 'TagB'"), match: (i: number) => i % 3 === 1 && i % 10 >= 3 && i % 10 <= 6 },
      { expr: MessageSelector.bySql("color IN ('red', 'blue') OR a > 8"), match: (i: number) => i % 4 <= 1 || i % 10 > 8 },
      { expr: MessageSelector.bySql("missing IS NULL AND NOT (a = 0)"), match: (i: number) => i % 10 !== 0 },
    ];
    const groups = await Promise.all(cases.map((c, n) => collectingConsumer(server, uniqueName(`fg${n}`), topic, { expression: c.expr })));
    const consumers = groups.map((g) => g.consumer);
    const logs = groups.map((g) => g.seen);
    await waitFor("assignments", () => consumers.every((c) => c.assignedQueues.filter((q) => q.topic === topic).length === 4));
    const colors = ["red", "blue", "green", "none"];
    for (let i = 0; i < 60; i++) {
      await producer.send({
        topic,
        body: `f-${i}`,
        tags: ["TagA", "TagB", "TagC"][i % 3]!,
        properties: { a: String(i % 10), ...(colors[i % 4] !== "none" ? { color: colors[i % 4]! } : {}) },
      });
    }
    const expected = cases.map((c) =>
      Array.from({ length: 60 }, (_, i) => i)
        .filter((i) => c.match(i))
        .map((i) => `f-${i}`)
        .sort(),
    );
    await waitFor("every group's subset", () => logs.every((log, n) => log.length >= expected[n]!.length)).catch((e: unknown) => {
      console.log(logs.map((l, n) => `${n}: got ${l.length} want ${expected[n]!.length}`).join("; "));
      throw e;
    });
    await quietPeriod(400); // a message outside a group's subset would show up now
    logs.forEach((log, n) => expect(log.map(bodyText).sort()).toEqual(expected[n]));
  });

  it("refuses a bad SQL92 expression at subscribe time with its position", async ({ server }) => {
    const c = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("bad"), ...FAST });
    let code = "NO_ERROR";
    let message = "";
    try {
      c.subscribe("AnyTopic", MessageSelector.bySql("a > > 3"));
    } catch (e) {
      code = isMQError(e) ? e.code : "OTHER";
      message = (e as Error).message;
    }
    expect(code).toBe("INVALID_FILTER_EXPRESSION");
    expect(message).toContain("position 4");
    const res = await http(`${server.url}/groups/${uniqueName("g")}/heartbeat`, {
      method: "POST",
      body: {
        clientId: "c1",
        messageModel: "CLUSTERING",
        subscriptions: [{ topic: "AnyTopic", expressionType: "SQL92", expression: "a BETWEEN 1" }],
        heartbeatIntervalMs: 1000,
        sessionTimeoutMs: 3000,
      },
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: "INVALID_FILTER_EXPRESSION" });
    const pull = await http(
      `${server.url}/brokers/broker-a/topics/AnyTopic/queues/0/messages?offset=0&expressionType=SQL92&expression=${encodeURIComponent("(a = 1")}`,
    );
    expect({ status: pull.status, code: pull.body.code }).toEqual({ status: 400, code: "INVALID_FILTER_EXPRESSION" });
  });
});

describe("lite pull consumer", () => {
  it("polls subscribed queues, commits, seeks, pauses and resumes", async ({ server, admin, producer }) => {
    const topic = uniqueName("Lite");
    const group = uniqueName("lg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const c = new LitePullConsumer({
      endpoint: server.url,
      credentials: server.credentials,
      group,
      autoCommitIntervalMs: 1000,
      heartbeatIntervalMs: 500,
      sessionTimeoutMs: 3000,
      brokerSuspendMaxTimeMs: 1000,
      pullBatchSize: 10,
    });
    c.subscribe(topic, "*");
    await c.start();
    try {
      await waitFor("assignment", () => c.assignedQueues.some((q) => q.topic === topic));
      const mq = { topic, brokerName: "broker-a", queueId: 0 };
      for (let i = 0; i < 25; i++) await producer.send({ topic, body: `l-${i}` }, { messageQueue: mq });
      const got: MessageExt[] = [];
      while (got.length < 25) got.push(...(await c.poll(2000)));
      expect(got.map((m) => new TextDecoder().decode(m.body))).toEqual(Array.from({ length: 25 }, (_, i) => `l-${i}`));
      await c.commitSync();
      expect((await admin.consumerProgress(group, topic)).queues.find((q) => q.messageQueue.brokerName === "broker-a")?.consumerOffset).toBe(25);
      c.seek(mq, 20);
      const again: MessageExt[] = [];
      while (again.length < 5) again.push(...(await c.poll(2000)));
      expect(again.map((m) => m.queueOffset)).toEqual([20, 21, 22, 23, 24]);
      c.pause([mq]);
      await producer.send({ topic, body: "while-paused" }, { messageQueue: mq });
      expect(await c.poll(300)).toEqual([]);
      c.resume([mq]);
      const resumed = await c.poll(2000);
      expect(resumed.map((m) => new TextDecoder().decode(m.body))).toEqual(["while-paused"]);
      await c.seekToBegin(mq);
      expect((await c.poll(2000))[0]?.queueOffset).toBe(0);
    } finally {
      await c.shutdown();
    }
  });

  it("reads assigned queues without a rebalance", async ({ server, admin, producer }) => {
    const topic = uniqueName("Assign");
    await admin.createTopic(topic, { queueNums: 2, brokers: ["broker-b"] });
    const mq = { topic, brokerName: "broker-b", queueId: 1 };
    await producer.send({ topic, body: "other" }, { messageQueue: { ...mq, queueId: 0 } });
    await producer.send({ topic, body: "mine" }, { messageQueue: mq });
    const c = new LitePullConsumer({
      endpoint: server.url,
      credentials: server.credentials,
      group: uniqueName("ag"),
      consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
      brokerSuspendMaxTimeMs: 500,
    });
    c.assign([mq]);
    await c.start();
    try {
      const got = await c.poll(3000);
      expect(got.map((m) => new TextDecoder().decode(m.body))).toEqual(["mine"]);
    } finally {
      await c.shutdown();
    }
  });
});

describe("offsets admin", () => {
  it("shows lag of a stalled group and resets its offsets to a time, applied by live members", async ({ server, admin, producer }) => {
    const topic = uniqueName("Progress");
    const group = uniqueName("pg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const { consumer: c, seen } = await collectingConsumer(server, group, topic);
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    await waitFor("assignment", () => c.assignedQueues.some((q) => q.topic === topic));
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `early-${i}` }, { messageQueue: mq });
    await clockPast(Date.now()); // every early message is stored strictly before `middle`
    const middle = Date.now();
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `late-${i}` }, { messageQueue: mq });
    await waitFor("10 deliveries", () => seen.length >= 10);
    await waitFor("committed", async () => (await admin.consumerProgress(group, topic)).totalLag === 0);
    const reset = await admin.resetOffsetByTime(group, topic, middle);
    expect(reset.offsets.map((o) => o.offset)).toEqual([5]);
    await waitFor("redelivery from the reset point", () => seen.length >= 15);
    expect(seen.slice(10).map(bodyText)).toEqual(["late-0", "late-1", "late-2", "late-3", "late-4"]);
    await c.shutdown();
    // Stalled group: nobody consumes, lag grows.
    for (let i = 0; i < 3; i++) await producer.send({ topic, body: `more-${i}` }, { messageQueue: mq });
    const progress = await admin.consumerProgress(group, topic);
    const q = progress.queues.find((p) => p.messageQueue.brokerName === "broker-a" && p.messageQueue.queueId === 0)!;
    expect(q.brokerOffset).toBe(13);
    expect(q.consumerOffset).toBe(10);
    expect(q.lag).toBe(3);
    expect(progress.totalLag).toBe(3);
  });
});
