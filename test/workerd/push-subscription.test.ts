/**
 * Push subscriptions end to end inside workerd: the real client creates a subscription on the
 * Worker (SELF) and produces; the queue objects deliver from their alarms to a consumer Worker
 * behind the service binding PUSH_TEST_CONSUMER (test/workerd/push-consumer-worker.js), which
 * answers as each message's properties script it.
 *
 * - 1,000 messages over 8 queues, a consumer that always succeeds: each delivered exactly once.
 * - Failures: retries wait exactly the retry ladder (the clock is faked and the queue's alarm run
 *   at chosen times: one millisecond early nothing goes, on time it does), and the DLQ gets
 *   exactly the messages that failed maxRetries + 1 times, with the send-back properties.
 * - Orderly: per queue, the consumer takes messages in offset order although some fail.
 * - Pause and resume; a client of a group with a subscription is refused.
 */
import { SELF, env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Admin, Producer, SimpleConsumer, bodyText, isMQError } from "../../client/index.js";
import type { ClientOptions, Message, PushSubscriptionRequest } from "../../client/index.js";
import { queueObjectName } from "../../cluster/stubs.js";
import { alarmOf, atTime } from "../../durable-objects/test-support.js";

const client: ClientOptions = { endpoint: "http://localhost", credentials: null, fetch: (input, init) => SELF.fetch(input, init) };
const admin = new Admin(client);
let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${++counter}`;
/** The default delay table's levels 3, 4: the ladder's wait after the first and second failed delivery. */
const LADDER_MS = [10_000, 30_000];

interface Record {
  msgId: string;
  body: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  batch: number;
  reconsumeTimes: number;
}

const consumerWorker = (env as unknown as { PUSH_TEST_CONSUMER: Fetcher }).PUSH_TEST_CONSUMER;

async function records(group: string): Promise<Record[]> {
  const res = await consumerWorker.fetch(`http://consumer/records?group=${encodeURIComponent(group)}`);
  return res.json();
}

async function produce(topic: string, messages: Message[], batch = 1): Promise<void> {
  const producer = new Producer({ ...client, group: unique("pg") });
  await producer.start();
  for (let i = 0; i < messages.length; i += batch) await producer.send(messages.slice(i, i + batch));
  await producer.shutdown();
}

function subscription(topic: string, over: Partial<PushSubscriptionRequest> = {}): PushSubscriptionRequest {
  return { topic, target: { type: "service", binding: "PUSH_TEST_CONSUMER" }, maxBatchTimeoutMs: 0, ...over };
}

const queueObject = (topic: string, queueId = 0) => env.QUEUE.get(env.QUEUE.idFromName(queueObjectName("broker-a", topic, queueId)));

afterEach(() => {
  vi.useRealTimers();
});

describe("push subscriptions (workerd, service binding)", () => {
  it("delivers every one of 1,000 messages exactly once to a consumer that always succeeds", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 4 });
    const created = await admin.putPushSubscription(
      group,
      subscription(topic, {
        maxBatchSize: 100,
        maxBatchTimeoutMs: 20,
        maxConcurrency: 2,
        target: { type: "service", binding: "PUSH_TEST_CONSUMER", call: "rpc" },
      }),
    );
    expect(created.secret).toBeUndefined();
    const bodies = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    await produce(
      topic,
      bodies.map((body) => ({ topic, body })),
      25,
    );
    await vi.waitUntil(async () => (await records(group)).length >= 1000, { timeout: 30_000, interval: 50 });
    const got = await records(group);
    expect(got.map((r) => r.body).sort()).toEqual([...bodies].sort());
    expect(got.every((r) => r.reconsumeTimes === 0 && r.batch <= 100)).toBe(true);
    // Per queue each offset once (two batches in flight at once may arrive in either order).
    const perQueue = new Map<string, number[]>();
    for (const r of got) perQueue.set(`${r.brokerName}/${r.queueId}`, [...(perQueue.get(`${r.brokerName}/${r.queueId}`) ?? []), r.queueOffset]);
    expect(perQueue.size).toBe(8);
    for (const offsets of perQueue.values()) expect(offsets.sort((a, b) => a - b)).toEqual(offsets.map((_, i) => i));
    await vi.waitUntil(async () => (await admin.getPushSubscription(group)).lag === 0, { timeout: 10_000, interval: 50 });
    const progress = await admin.getPushSubscription(group);
    expect(progress.delivered).toBe(1000);
    expect(progress.queues.every((q) => q.applied && q.retryBacklog === 0 && q.lastError === null)).toBe(true);
  });

  it("retries after the ladder's delays and dead-letters exactly what failed maxRetries + 1 times", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await admin.putPushSubscription(group, subscription(topic, { maxRetries: 2, maxBatchSize: 10 }));
    // One send: one append, one batch, so all three are first delivered at the same time.
    await produce(
      topic,
      [
        { topic, body: "ok" },
        { topic, body: "once", properties: { PUSH_FAIL: "1" } },
        { topic, body: "never", properties: { PUSH_FAIL: "always" } },
      ],
      3,
    );
    const q = queueObject(topic);
    // The first delivery is made by the queue's own alarm, woken by the appends.
    await vi.waitUntil(async () => (await records(group)).length >= 3, { timeout: 10_000, interval: 20 });
    const first = (await admin.getPushSubscription(group)).lastDeliveryAt!;
    expect((await records(group)).map((r) => [r.body, r.reconsumeTimes])).toEqual([
      ["ok", 0],
      ["once", 0],
      ["never", 0],
    ]);

    // One millisecond before the ladder's first delay nothing goes; on time both failed ones do.
    await atTime(first + LADDER_MS[0]! - 1, () => runDurableObjectAlarm(q));
    expect(await records(group)).toHaveLength(3);
    await atTime(first + LADDER_MS[0]!, () => runDurableObjectAlarm(q));
    const afterSecond = await records(group);
    expect(afterSecond.slice(3).map((r) => [r.body, r.reconsumeTimes])).toEqual([
      ["once", 1],
      ["never", 1],
    ]);
    const second = (await admin.getPushSubscription(group)).lastDeliveryAt!;
    expect(second).toBeGreaterThanOrEqual(first + LADDER_MS[0]!);

    await atTime(second + LADDER_MS[1]! - 1, () => runDurableObjectAlarm(q));
    expect(await records(group)).toHaveLength(5);
    await atTime(second + LADDER_MS[1]!, () => runDurableObjectAlarm(q));
    const all = await records(group);
    expect(all.slice(5).map((r) => [r.body, r.reconsumeTimes])).toEqual([["never", 2]]);

    // "never" failed maxRetries + 1 = 3 times: it is in the DLQ, and nothing else is.
    const dlq = await admin.listDlq(group);
    expect(dlq.map((m) => [bodyText(m), m.reconsumeTimes, m.properties.RETRY_TOPIC, m.properties.MAX_RECONSUME_TIMES])).toEqual([["never", 3, topic, "2"]]);
    const progress = await admin.getPushSubscription(group);
    expect([progress.retryBacklog, progress.deadLettered, progress.delivered, progress.lag]).toEqual([0, 1, 2, 0]);
    expect(progress.lastError?.message).toBe("the target asked to retry 1 of 1 messages");
    // Nothing is due any more: the subscription leaves no alarm behind.
    expect(await alarmOf(q)).toBeNull();
  });

  it("a batch answered with an error status counts a failure for each of its messages", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await admin.putPushSubscription(group, subscription(topic, { maxRetries: 0 }));
    await produce(topic, [{ topic, body: "boom", properties: { PUSH_STATUS: "500" } }]);
    await vi.waitUntil(async () => (await admin.listDlq(group)).length === 1, { timeout: 10_000, interval: 20 });
    const progress = await admin.getPushSubscription(group);
    expect(progress.lastError?.message).toBe("the target answered 500");
    expect((await records(group)).map((r) => r.body)).toEqual(["boom"]);
  });

  it("an orderly subscription hands each queue's messages over in offset order although some fail", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 2, brokers: ["broker-a"] });
    await admin.putPushSubscription(group, subscription(topic, { orderly: true, maxBatchSize: 4, retryDelayMs: 0 }));
    const messages: Message[] = Array.from({ length: 40 }, (_, i) => ({
      topic,
      body: `o${i}`,
      properties: { PUSH_ORDERLY: "true", ...(i % 7 === 3 ? { PUSH_FAIL: "2" } : {}) },
    }));
    await produce(topic, messages, 5);
    await vi.waitUntil(async () => new Set((await records(group)).map((r) => r.body)).size >= 40, { timeout: 20_000, interval: 50 });
    await vi.waitUntil(async () => (await admin.getPushSubscription(group)).lag === 0, { timeout: 10_000, interval: 50 });
    const got = await records(group);
    // What the consumer took (its last delivery of each message), per queue, is the queue's offsets in order.
    const taken = new Map<number, number[]>(); // one broker: queue id names the queue
    const lastDelivery = new Map<string, Record>();
    for (const r of got) lastDelivery.set(r.msgId, r);
    for (const r of got) if (lastDelivery.get(r.msgId) === r) taken.set(r.queueId, [...(taken.get(r.queueId) ?? []), r.queueOffset]);
    expect([...taken.keys()].sort()).toEqual([0, 1]);
    for (const offsets of taken.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
    // Each failing message came three times (reconsumeTimes 0, 1, 2), nothing went to the DLQ.
    expect(got.filter((r) => r.body === "o3").map((r) => r.reconsumeTimes)).toEqual([0, 1, 2]);
    expect(await admin.listDlq(group)).toEqual([]);
  });

  it("a target that hangs is abandoned after its timeout and holds up neither the alarm nor another subscription", async () => {
    const topic = unique("PushT");
    const slow = unique("hangslow");
    const hanging = unique("hangg");
    const healthy = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    // The consumer Worker answers "hang…" groups only after 20 s.
    await admin.putPushSubscription(slow, subscription(topic, { timeoutMs: 15_000 }));
    await admin.putPushSubscription(hanging, subscription(topic, { timeoutMs: 1000, retryDelayMs: 60_000 }));
    await admin.putPushSubscription(healthy, subscription(topic));
    await produce(topic, [{ topic, body: "x" }]);
    await vi.waitUntil(async () => (await records(healthy)).length === 1, { timeout: 10_000, interval: 20 });
    // While the slow round is still out, the next message reaches the healthy subscription: the
    // queue's alarm does not wait for the slow target (it would for 15 s).
    await produce(topic, [{ topic, body: "y" }]);
    await vi.waitUntil(async () => (await records(healthy)).length === 2, { timeout: 5_000, interval: 20 });
    expect((await admin.getPushSubscription(slow)).lastError).toBeNull();
    // The hanging one was abandoned after its 1 s timeout: its batch failed, to be retried.
    await vi.waitUntil(async () => (await admin.getPushSubscription(hanging)).lastError !== null, { timeout: 10_000, interval: 50 });
    const stuck = await admin.getPushSubscription(hanging);
    expect(stuck.lastError?.message).toBe("the target did not answer within 1000 ms");
    expect(stuck.retryBacklog).toBeGreaterThanOrEqual(1);
    expect((await records(healthy)).map((r) => r.body)).toEqual(["x", "y"]);
    await admin.deletePushSubscription(slow);
  });

  it("pauses and resumes; clients of the group are refused while it has a subscription", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await admin.putPushSubscription(group, subscription(topic, { paused: true }));
    await produce(topic, [{ topic, body: "held" }]);
    // Paused: nothing is due, so the queue has no alarm for it.
    expect(await alarmOf(queueObject(topic))).toBeNull();
    expect(await records(group)).toEqual([]);
    expect((await admin.getPushSubscription(group)).lag).toBe(1);
    const receive = await new SimpleConsumer({ ...client, group, awaitDurationMs: 0 })
      .subscribe(topic)
      .receive(1, 10_000)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isMQError(receive) && receive.code).toBe("CONSUME_MODE_MISMATCH");
    await admin.resumePushSubscription(group);
    await vi.waitUntil(async () => (await records(group)).length === 1, { timeout: 10_000, interval: 20 });
    // The group cannot be deleted under its subscription (which would dead-letter into the deleted DLQ).
    const deleteGroup = () =>
      admin.deleteSubscriptionGroup(group).then(
        () => "OK",
        (e: unknown) => (isMQError(e) ? e.code : String(e)),
      );
    expect(await deleteGroup()).toBe("GROUP_HAS_MEMBERS");
    await admin.deletePushSubscription(group);
    expect(await deleteGroup()).toBe("OK");
    const gone = await admin.getPushSubscription(group).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(gone) && gone.code).toBe("PUSH_SUBSCRIPTION_NOT_FOUND");
  });

  it("refuses a subscription for a group that SimpleConsumers consume, and leaves nothing behind", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await produce(topic, [{ topic, body: "popped" }]);
    const received = await new SimpleConsumer({ ...client, group, awaitDurationMs: 0 }).subscribe(topic).receive(1, 10_000);
    expect(received).toHaveLength(1);
    const refused = await admin.putPushSubscription(group, subscription(topic)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(refused) && `${refused.status} ${refused.code}`).toBe("409 CONSUME_MODE_MISMATCH");
    const gone = await admin.getPushSubscription(group).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(gone) && gone.code).toBe("PUSH_SUBSCRIPTION_NOT_FOUND");
    expect(await records(group)).toEqual([]);
  });

  it("refuses a subscription while the group has a live member, and a member's heartbeat while it has one", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const cg = env.CONSUMER_GROUP.get(env.CONSUMER_GROUP.idFromName(group));
    const member = (clientId: string) => ({
      clientId,
      messageModel: "CLUSTERING" as const,
      subscriptions: [{ topic, expressionType: "TAG" as const, expression: "*" }],
      heartbeatIntervalMs: 1000,
      sessionTimeoutMs: 3000,
    });
    await cg.heartbeat(group, member("c1"));
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "OK",
        (e: unknown) => (isMQError(e) ? `${e.status} ${e.code}` : (e as Error).message.slice(0, 23)),
      );
    expect(await codeOf(admin.putPushSubscription(group, subscription(topic)))).toBe("409 CONSUME_MODE_MISMATCH");
    await cg.leave(group, "c1");
    expect(await codeOf(admin.putPushSubscription(group, subscription(topic, { paused: true })))).toBe("OK");
    expect(await codeOf(cg.heartbeat(group, member("c2")))).toBe("[CONSUME_MODE_MISMATCH]");
    expect((await cg.info(group)).members).toEqual([]);
  });

  it("refuses bad inputs with 4xx codes and changes nothing", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "OK",
        (e: unknown) => (isMQError(e) ? `${e.status} ${e.code}` : String(e)),
      );
    const put = (body: unknown) => codeOf(admin.putPushSubscription(group, body as PushSubscriptionRequest));
    expect(await put(subscription(topic, { target: { type: "service", binding: "QUEUE" } }))).toBe("400 PUSH_TARGET_NOT_ALLOWED");
    expect(await put(subscription(topic, { target: { type: "service", binding: "ACCOUNTS" } }))).toBe("400 PUSH_TARGET_NOT_ALLOWED");
    expect(await put(subscription(topic, { target: { type: "webhook", url: "https://169.254.169.254/latest" } }))).toBe("400 PUSH_TARGET_NOT_ALLOWED");
    expect(await put(subscription(topic, { target: { type: "webhook", url: "http://example.com/hook" } }))).toBe("400 PUSH_TARGET_NOT_ALLOWED");
    expect(await put(subscription(topic, { maxBatchSize: 101 }))).toBe("400 VALIDATION_FAILED");
    expect(await put(subscription(topic, { maxConcurrency: 0 }))).toBe("400 VALIDATION_FAILED");
    expect(await put(subscription(topic, { maxBatchTimeoutMs: 60_001 }))).toBe("400 VALIDATION_FAILED");
    expect(await put({ ...subscription(topic), target: { type: "email", to: "x" } })).toBe("400 VALIDATION_FAILED");
    expect(await put(subscription(topic, { expressionType: "SQL92", expression: "a >" }))).toBe("400 INVALID_FILTER_EXPRESSION");
    expect(await put(subscription(unique("NoSuchTopic")))).toBe("404 TOPIC_NOT_EXIST");
    expect(await codeOf(admin.getPushSubscription(group))).toBe("404 PUSH_SUBSCRIPTION_NOT_FOUND");
    expect(await codeOf(admin.pausePushSubscription(group))).toBe("404 PUSH_SUBSCRIPTION_NOT_FOUND");
    // Nothing above was stored; a real one is, and its ordering cannot change in place.
    expect(await put(subscription(topic, { paused: true }))).toBe("OK");
    expect(await put(subscription(topic, { paused: true, orderly: true }))).toBe("400 VALIDATION_FAILED");
    expect((await admin.getPushSubscription(group)).subscription).toMatchObject({ orderly: false, version: 1 });
  });
});

describe("push subscriptions declared in wrangler.toml (PUSH_SUBSCRIPTIONS)", () => {
  it("are applied idempotently: once created, the same declaration writes nothing, and an operator's pause stays", async () => {
    const topic = unique("PushT");
    const group = unique("pushg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const declared = [{ group, topic, target: { type: "service", binding: "PUSH_TEST_CONSUMER" }, maxBatchTimeoutMs: 0, maxBatchSize: 7 }];
    const { applyDeclaredPushSubscriptions } = await import("../../workers/groups/push-config.js");
    const apply = (text: string) => applyDeclaredPushSubscriptions({ ...env, PUSH_SUBSCRIPTIONS: text });
    await apply(JSON.stringify(declared));
    const first = await admin.getPushSubscription(group);
    expect(first.subscription).toMatchObject({ topic, maxBatchSize: 7, paused: false, version: 1 });
    await produce(topic, [{ topic, body: "declared" }]);
    await vi.waitUntil(async () => (await records(group)).length === 1, { timeout: 10_000, interval: 20 });

    await admin.pausePushSubscription(group);
    // The same declaration again (another isolate, say): nothing is written, the pause stays.
    await apply(JSON.stringify(declared, null, 1));
    expect((await admin.getPushSubscription(group)).subscription).toMatchObject({ paused: true, version: 2 });
    // A changed declaration is applied (and still leaves the pause to the operator).
    await apply(JSON.stringify([{ ...declared[0], maxBatchSize: 9 }]));
    expect((await admin.getPushSubscription(group)).subscription).toMatchObject({ paused: true, maxBatchSize: 9, version: 3 });
  });
});
