/** Push consumers: clustering with rebalance and fencing, crashes, broadcasting, retries and DLQ. */
import { describe, expect } from "vitest";
import { PullConsumer, PushConsumer, bodyText, concurrently, type MessageExt, type Producer } from "../../client/index.js";
import { FAST, FAST_LEVELS, collectingConsumer, killableFetch, pullWatch, record, waitForBalance, type Delivery } from "../consumer-helpers.js";
import { test, it } from "../fixture.js";
import { quietPeriod, uniqueName, waitFor, type TestServer } from "../helpers.js";

test.override("serverOptions", { vars: { MESSAGE_DELAY_LEVEL: FAST_LEVELS } });

function pushConsumer(server: TestServer, group: string, name: string, log: Delivery[], extra: Record<string, unknown> = {}): PushConsumer {
  const c = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group, ...FAST, ...extra });
  c.registerMessageListener(
    concurrently((msgs) => {
      for (const m of msgs) record(log, name, m);
      return "CONSUME_SUCCESS";
    }),
  );
  return c;
}

async function sendAll(producer: Producer, topic: string, n: number, prefix = "m"): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i += 50) {
    const chunk = Array.from({ length: Math.min(50, n - i) }, (_, k) => `${prefix}-${i + k}`);
    await Promise.all(chunk.map((body) => producer.send({ topic, body })));
    bodies.push(...chunk);
  }
  return bodies;
}

describe("clustering", () => {
  it("3 consumers receive 1,000 messages exactly once between them", async ({ server, admin, producer }) => {
    const topic = uniqueName("Cluster");
    const group = uniqueName("cg");
    await admin.createTopic(topic, { queueNums: 4 });
    const log: Delivery[] = [];
    // Exactly once holds while the members stay; a member whose heartbeats a loaded machine
    // delays past a 3 s session is taken for dead and its queues' uncommitted messages are
    // redelivered (the crash case, tested below). A 20 s session keeps this about the steady state.
    const consumers = ["c1", "c2", "c3"].map((n) => pushConsumer(server, group, n, log, { sessionTimeoutMs: 20_000 }));
    for (const c of consumers) c.subscribe(topic, "*");
    await Promise.all(consumers.map((c) => c.start()));
    try {
      await waitForBalance(consumers, topic, 8);
      const sent = await sendAll(producer, topic, 1000);
      await waitFor("1,000 deliveries", () => log.length >= 1000);
      await quietPeriod(500); // anything extra would show up now
      expect(log.map((d) => d.body).sort()).toEqual([...sent].sort());
      const info = await admin.groupInfo(group);
      expect(info.members.length).toBe(3);
    } finally {
      await Promise.all(consumers.map((c) => c.shutdown()));
    }
    expect((await admin.groupInfo(group)).members.length).toBe(0);
    const progress = await admin.consumerProgress(group, topic);
    expect(progress.totalLag).toBe(0);
  });

  for (const n of [2, 4]) {
    it(`${n} consumers over 8 queues each get an even share (±10 %)`, async ({ server, admin, producer }) => {
      const topic = uniqueName("Share");
      const group = uniqueName("cg");
      await admin.createTopic(topic, { queueNums: 4 });
      const log: Delivery[] = [];
      const consumers = Array.from({ length: n }, (_, i) => pushConsumer(server, group, `c${i}`, log));
      for (const c of consumers) c.subscribe(topic);
      await Promise.all(consumers.map((c) => c.start()));
      try {
        await waitForBalance(consumers, topic, 8);
        await sendAll(producer, topic, 800);
        await waitFor("800 deliveries", () => log.length >= 800);
        for (let i = 0; i < n; i++) {
          const share = log.filter((d) => d.consumer === `c${i}`).length;
          expect(Math.abs(share - 800 / n)).toBeLessThanOrEqual(0.1 * (800 / n));
        }
        expect(new Set(log.map((d) => d.msgId)).size).toBe(800);
      } finally {
        await Promise.all(consumers.map((c) => c.shutdown()));
      }
    });
  }

  it("hands queues over without duplicates when members join and leave gracefully mid-stream", async ({ server, admin, producer }) => {
    const topic = uniqueName("Handover");
    const group = uniqueName("cg");
    await admin.createTopic(topic, { queueNums: 4 });
    const log: Delivery[] = [];
    const slow = (name: string) => {
      const c = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group, ...FAST });
      c.subscribe(topic);
      c.registerMessageListener(
        concurrently(async (msgs): Promise<"CONSUME_SUCCESS"> => {
          await new Promise((r) => setTimeout(r, 2)); // work that is in flight when queues move
          for (const m of msgs) record(log, name, m);
          return "CONSUME_SUCCESS";
        }),
      );
      return c;
    };
    const a = slow("a");
    const b = slow("b");
    const c = slow("c");
    await a.start();
    await b.start();
    try {
      await waitForBalance([a, b], topic, 8);
      const sent: string[] = [];
      sent.push(...(await sendAll(producer, topic, 200, "one")));
      await c.start(); // joins while messages are being consumed
      sent.push(...(await sendAll(producer, topic, 200, "two")));
      await waitForBalance([a, b, c], topic, 8);
      await a.shutdown(); // leaves while messages are being consumed
      sent.push(...(await sendAll(producer, topic, 200, "three")));
      await waitFor("all 600", () => new Set(log.map((d) => d.body)).size >= 600, 20_000);
      await quietPeriod(500); // a duplicate would show up now
      const bodies = log.map((d) => d.body);
      if (bodies.length !== new Set(bodies).size) {
        const seenAt = new Map<string, Delivery[]>();
        for (const d of log) seenAt.set(d.body, [...(seenAt.get(d.body) ?? []), d]);
        const dups = [...seenAt.values()].filter((ds) => ds.length > 1).slice(0, 6);
        console.log(
          "duplicates (consumer:queue@offset:time)",
          JSON.stringify(dups.map((ds) => ds.map((d) => `${d.consumer}:${d.queue}@${d.queueOffset}:${d.at}`))),
        );
      }
      expect(bodies.length - new Set(bodies).size).toBe(0); // not one duplicate
      expect(new Set(bodies)).toEqual(new Set(sent));
    } finally {
      await Promise.all([a.shutdown(), b.shutdown(), c.shutdown()]);
    }
  });

  it("moves a crashed member's queues to the others; duplicates only of what it had not committed", async ({ server, admin, producer }) => {
    const topic = uniqueName("Crash");
    const group = uniqueName("cg");
    await admin.createTopic(topic, { queueNums: 4 });
    const log: Delivery[] = [];
    const cut = killableFetch();
    const a = pushConsumer(server, group, "a", log);
    const b = pushConsumer(server, group, "b", log);
    // The crash cuts its fetch: its pulls must all go through it (pull channels are WebSockets).
    const crashing = pushConsumer(server, group, "crash", log, { fetch: cut.fetch, pullChannels: false });
    for (const c of [a, b, crashing]) c.subscribe(topic);
    await Promise.all([a, b, crashing].map((c) => c.start()));
    try {
      await waitForBalance([a, b, crashing], topic, 8);
      const sent = await sendAll(producer, topic, 300, "before");
      await waitFor("first 300", () => new Set(log.map((d) => d.body)).size >= 300);
      cut.kill(); // no shutdown, no leave: it simply vanishes
      const crashedAt = Date.now();
      sent.push(...(await sendAll(producer, topic, 300, "after")));
      await waitFor("all 600 after the crash", () => new Set(log.map((d) => d.body)).size >= 600, 20_000);
      expect(new Set(log.map((d) => d.body))).toEqual(new Set(sent));
      const seen = new Map<string, Delivery[]>();
      for (const d of log) seen.set(d.body, [...(seen.get(d.body) ?? []), d]);
      const duplicated = [...seen.values()].filter((ds) => ds.length > 1);
      // A duplicate is a message the crashed member got and never committed, redelivered to another.
      for (const ds of duplicated) {
        expect(ds.some((d) => d.consumer === "crash")).toBe(true);
        expect(ds.filter((d) => d.consumer !== "crash").length).toBe(1);
      }
      const info = await admin.groupInfo(group);
      expect(info.members.map((m) => m.clientId).sort()).toEqual([a.clientId, b.clientId].sort());
      console.log(`crash: ${duplicated.length} duplicates of 600, queues moved ${((Date.now() - crashedAt) / 1000).toFixed(1)} s after the crash`);
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
      await crashing.shutdown().catch(() => undefined);
    }
  });
});

describe("broadcasting", () => {
  it("gives every member every message; a late joiner starts at the newest", async ({ server, admin, producer }) => {
    const topic = uniqueName("Broadcast");
    const group = uniqueName("bg");
    await admin.createTopic(topic, { queueNums: 2 });
    const log: Delivery[] = [];
    const members = ["x", "y"].map((n) => pushConsumer(server, group, n, log, { messageModel: "BROADCASTING" }));
    for (const c of members) c.subscribe(topic);
    await Promise.all(members.map((c) => c.start()));
    const lateWatch = pullWatch(topic);
    // The watch sees pulls through fetch: this member pulls over HTTP (pull channels are WebSockets).
    const late = pushConsumer(server, group, "late", log, { messageModel: "BROADCASTING", fetch: lateWatch.fetch, pullChannels: false });
    try {
      await waitFor("queues", () => members.every((c) => c.assignedQueues.length === 4));
      const first = await sendAll(producer, topic, 16, "first");
      await waitFor("32 deliveries", () => log.length >= 32);
      for (const n of ["x", "y"])
        expect(
          log
            .filter((d) => d.consumer === n)
            .map((d) => d.body)
            .sort(),
        ).toEqual([...first].sort());
      late.subscribe(topic);
      await late.start();
      await waitFor("late joiner's queues", () => late.assignedQueues.length === 4);
      await waitFor("the late joiner to know its start offsets (pulling every queue)", () => lateWatch.pulled.size === 4);
      const second = await sendAll(producer, topic, 4, "second");
      await waitFor("second round", () => log.filter((d) => d.body.startsWith("second")).length >= 12);
      expect(
        log
          .filter((d) => d.consumer === "late")
          .map((d) => d.body)
          .sort(),
      ).toEqual([...second].sort());
      for (const n of ["x", "y"]) expect(log.filter((d) => d.consumer === n).length).toBe(20);
    } finally {
      await Promise.all([...members, late].map((c) => c.shutdown()));
    }
  });
});

describe("retries and dead letters", () => {
  it("redelivers a failing message with reconsumeTimes 0, 1, 2 under its original topic", async ({ server, admin, producer }) => {
    const topic = uniqueName("Retry");
    const group = uniqueName("rg");
    await admin.createTopic(topic, { queueNums: 1 });
    const { consumer: c, seen } = await collectingConsumer(server, group, topic, {
      answer: (msgs) => (msgs.every((m) => m.reconsumeTimes >= 2) ? "CONSUME_SUCCESS" : "RECONSUME_LATER"),
    });
    await waitFor("queues", () => c.assignedQueues.some((q) => q.topic === topic));
    const sent = await producer.send({ topic, body: "flaky", tags: "T" });
    await waitFor("3 deliveries", () => seen.length >= 3);
    await quietPeriod(500); // a fourth delivery would show up now
    expect(seen.map((m) => m.reconsumeTimes)).toEqual([0, 1, 2]);
    expect(seen.map((m) => m.topic)).toEqual([topic, topic, topic]);
    expect(seen.map((m) => m.msgId)).toEqual([sent.msgId, sent.msgId, sent.msgId]);
    expect(seen.map(bodyText)).toEqual(["flaky", "flaky", "flaky"]);
    expect(seen[2]!.properties.ORIGIN_MESSAGE_ID).toBe(sent.msgId);
    expect(seen[2]!.properties.RETRY_TOPIC).toBe(topic);
  });

  it("dead-letters a message that always fails after maxReconsumeTimes, and nowhere else", async ({ server, admin, producer }) => {
    const topic = uniqueName("Dead");
    const group = uniqueName("dg");
    await admin.createTopic(topic, { queueNums: 1 });
    const { consumer: c, seen } = await collectingConsumer(server, group, topic, { answer: () => "RECONSUME_LATER", options: { maxReconsumeTimes: 2 } });
    let dlq: MessageExt[] = [];
    await waitFor("queues", () => c.assignedQueues.some((q) => q.topic === topic));
    const sent = await producer.send({ topic, body: "poison" });
    const reader = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("inspect") });
    await waitFor("the DLQ", async () => {
      try {
        const queues = await reader.fetchSubscribeMessageQueues(`%DLQ%${group}`);
        dlq = [];
        for (const q of queues) dlq.push(...(await reader.pull(q, "*", 0, 32, { maxWaitMs: 0 })).msgFoundList);
        return dlq.length > 0;
      } catch {
        return false;
      }
    });
    await quietPeriod(500); // a fourth delivery would show up now
    expect(seen.map((m) => m.reconsumeTimes)).toEqual([0, 1, 2]);
    expect(dlq.length).toBe(1);
    expect(dlq[0]!.msgId).toBe(sent.msgId);
    expect(dlq[0]!.properties.RETRY_TOPIC).toBe(topic);
    expect(bodyText(dlq[0]!)).toBe("poison");
  });
});

describe("async iterator and offset stores", () => {
  it("yields messages to a for-await loop and shuts down when the loop ends", async ({ server, admin, producer }) => {
    const topic = uniqueName("Iter");
    const group = uniqueName("ig");
    await admin.createTopic(topic, { queueNums: 1 });
    const c = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group, ...FAST, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" });
    c.subscribe(topic);
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `it-${i}` });
    const got: string[] = [];
    const stop = new AbortController();
    for await (const m of c.messages(stop.signal)) {
      got.push(bodyText(m));
      if (got.length === 5) stop.abort(); // the loop ends after this message, which counts as consumed
    }
    expect(got.sort()).toEqual(["it-0", "it-1", "it-2", "it-3", "it-4"]);
    expect((await admin.groupInfo(group)).members.length).toBe(0);
    const progress = await admin.consumerProgress(group, topic);
    expect(progress.totalLag).toBe(0); // all five were committed at shutdown
  });

  it("item 14: a throw inside the for-await loop is a failure: the message is redelivered through the retry topic", async ({ server, admin, producer }) => {
    const topic = uniqueName("IterThrow");
    const group = uniqueName("itg");
    await admin.createTopic(topic, { queueNums: 1 });
    const options = { endpoint: server.url, credentials: server.credentials, group, ...FAST, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" as const };
    const sent = await producer.send({ topic, body: "fails-once" });
    const first = new PushConsumer(options);
    first.subscribe(topic);
    const failure = new Error("handler failed");
    let thrown: unknown;
    try {
      for await (const m of first.messages()) {
        expect(m.msgId).toBe(sent.msgId);
        throw failure;
      }
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(failure);
    // A later member of the group gets it again, as after RECONSUME_LATER: same msgId, one retry.
    const second = new PushConsumer(options);
    second.subscribe(topic);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 20_000);
    const again: MessageExt[] = [];
    try {
      for await (const m of second.messages(stop.signal)) {
        again.push(m);
        stop.abort();
      }
    } finally {
      clearTimeout(timer);
    }
    expect(again.map((m) => [m.msgId, m.topic, m.reconsumeTimes, bodyText(m)])).toEqual([[sent.msgId, topic, 1, "fails-once"]]);
    expect((await admin.consumerProgress(group, topic)).totalLag).toBe(0);
  });

  it("keeps broadcasting offsets in a file across consumer restarts", async ({ server, admin, producer }) => {
    const { FileOffsetStore } = await import("../../client/node/file-offset-store.js");
    const { mkdtemp, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const dir = await mkdtemp(path.join(os.tmpdir(), "flaremq-offsets-"));
    const topic = uniqueName("FileStore");
    const group = uniqueName("fsg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const run = async (expected: number) => {
      const log: Delivery[] = [];
      const watch = pullWatch(topic);
      const c = pushConsumer(server, group, "b", log, {
        fetch: watch.fetch,
        pullChannels: false, // the watch sees pulls through fetch

        messageModel: "BROADCASTING",
        clientId: "fixed-client",
        offsetStore: FileOffsetStore.forGroup(dir, "fixed-client", group),
      });
      c.subscribe(topic);
      await c.start();
      return { c, log, expected, watch };
    };
    try {
      const first = await run(3);
      await waitFor("queues", () => first.c.assignedQueues.length === 1);
      await waitFor("the consumer to know its start offset (pulling the queue)", () => first.watch.pulled.size === 1);
      for (let i = 0; i < 3; i++) await producer.send({ topic, body: `a-${i}` });
      await waitFor("3", () => first.log.length >= 3);
      await first.c.shutdown();
      for (let i = 0; i < 2; i++) await producer.send({ topic, body: `b-${i}` }); // sent while it is down
      const second = await run(2);
      await waitFor("2 after restart", () => second.log.length >= 2);
      await quietPeriod(300); // a delivery of a-0..a-2 again would show up now
      expect(second.log.map((d) => d.body)).toEqual(["b-0", "b-1"]);
      await second.c.shutdown();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
