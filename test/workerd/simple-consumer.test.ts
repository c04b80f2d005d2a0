/**
 * SimpleConsumer across time: the real client inside workerd against the Worker (SELF), with
 * only Date faked (the Worker and the objects run in this isolate, so they read the same clock).
 * A message not acked comes back after its invisibility plus the retry ladder's delay with
 * reconsumeTimes + 1, its old handle expired; past maxReconsumeTimes the next receive moves it to
 * %DLQ%<group> instead; a change of invisibility makes a message visible exactly then; a queue
 * object evicted (its memory lost, as in a crash) while messages are held gives back exactly the
 * unacked ones.
 */
import { SELF, env, evictDurableObject } from "cloudflare:test";
import { queueObjectName } from "../../cluster/stubs.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Admin, Producer, SimpleConsumer, bodyText, isMQError } from "../../client/index.js";
import type { ClientOptions } from "../../client/index.js";

const client: ClientOptions = { endpoint: "http://localhost", credentials: null, fetch: (input, init) => SELF.fetch(input, init) };
let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${++counter}`;
const INVISIBLE_MS = 10_000;
/** The default delay table's levels 3 and 4: the ladder's wait after the first and second delivery. */
const LADDER_MS = [10_000, 30_000];

afterEach(() => {
  vi.useRealTimers();
});

describe("SimpleConsumer over time (workerd)", () => {
  it("redelivers after invisibility and the ladder, then dead-letters past maxReconsumeTimes", async () => {
    const topic = unique("PopT");
    const group = unique("popg");
    await new Admin(client).createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const producer = new Producer({ ...client, group: unique("pg") });
    await producer.start();
    await producer.send({ topic, body: "m0" });
    await producer.send({ topic, body: "m1" });
    await producer.shutdown();

    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const consumer = new SimpleConsumer({ ...client, group, awaitDurationMs: 0, maxReconsumeTimes: 1 }).subscribe(topic);
    const first = await consumer.receive(32, INVISIBLE_MS);
    expect(first.map((m) => [bodyText(m), m.reconsumeTimes])).toEqual([
      ["m0", 0],
      ["m1", 0],
    ]);
    await consumer.ack(first[0]!);

    vi.setSystemTime(first[1]!.invisibleUntil + LADDER_MS[0]! - 1);
    expect(await consumer.receive(32, INVISIBLE_MS)).toEqual([]);
    vi.setSystemTime(first[1]!.invisibleUntil + LADDER_MS[0]!);
    const second = await consumer.receive(32, INVISIBLE_MS);
    expect(second.map((m) => [bodyText(m), m.reconsumeTimes, m.firstReceivedAt])).toEqual([["m1", 1, first[1]!.firstReceivedAt]]);
    const stale = await consumer.ack(first[1]!).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(stale) && stale.code).toBe("RECEIPT_HANDLE_EXPIRED");

    // The second delivery was the last (maxReconsumeTimes 1): once due, it goes to the DLQ.
    vi.setSystemTime(second[0]!.invisibleUntil + LADDER_MS[1]!);
    expect(await consumer.receive(32, INVISIBLE_MS)).toEqual([]);
    const dlq = await new Admin(client).listDlq(group);
    expect(dlq.map((m) => [bodyText(m), m.reconsumeTimes, m.properties.RETRY_TOPIC])).toEqual([["m1", 2, topic]]);
    // The claim was acked: a later receive neither hands it out nor moves it again. (The clock
    // stays within the brokers' registration expiry, past which the topic would vanish.)
    vi.setSystemTime(Date.now() + 1000);
    expect(await consumer.receive(32, INVISIBLE_MS)).toEqual([]);
    expect(await new Admin(client).listDlq(group)).toHaveLength(1);
  });

  it("a change of invisibility makes the message visible again exactly at its new time", async () => {
    const topic = unique("PopT");
    await new Admin(client).createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const producer = new Producer({ ...client, group: unique("pg") });
    await producer.start();
    await producer.send({ topic, body: "x" });
    await producer.shutdown();

    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const consumer = new SimpleConsumer({ ...client, group: unique("popg"), awaitDurationMs: 0 }).subscribe(topic);
    const [held] = await consumer.receive(1, 60_000);
    const changed = await consumer.changeInvisibleDuration(held!, 15_000);
    vi.setSystemTime(changed.invisibleUntil - 1);
    expect(await consumer.receive(1, 60_000)).toEqual([]);
    vi.setSystemTime(changed.invisibleUntil);
    expect((await consumer.receive(1, 60_000)).map((m) => [bodyText(m), m.reconsumeTimes])).toEqual([["x", 1]]);
  });

  it("after the queue object is evicted, exactly the unacked messages come back, and no acked one", async () => {
    const topic = unique("PopT");
    await new Admin(client).createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const producer = new Producer({ ...client, group: unique("pg") });
    await producer.start();
    for (let i = 0; i < 10; i++) await producer.send({ topic, body: `m${i}` });
    await producer.shutdown();

    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const consumer = new SimpleConsumer({ ...client, group: unique("popg"), awaitDurationMs: 0 }).subscribe(topic);
    const held = await consumer.receive(32, INVISIBLE_MS);
    expect(held).toHaveLength(10);
    expect(await consumer.ackAll(held.filter((_, i) => i % 2 === 0))).toEqual(Array(5).fill("OK"));

    const queue = env.QUEUE.get(env.QUEUE.idFromName(queueObjectName("broker-a", topic, 0)));
    await evictDurableObject(queue);
    vi.setSystemTime(held[0]!.invisibleUntil + LADDER_MS[0]!);
    const again = await consumer.receive(32, INVISIBLE_MS);
    expect(again.map((m) => [bodyText(m), m.reconsumeTimes])).toEqual(["m1", "m3", "m5", "m7", "m9"].map((b) => [b, 1]));
    // m0 was acked before the eviction; m1's first handle was spent by its redelivery.
    expect(await consumer.ackAll(held.slice(0, 2))).toEqual(["RECEIPT_HANDLE_INVALID", "RECEIPT_HANDLE_EXPIRED"]);
    expect(await consumer.ackAll(again)).toEqual(Array(5).fill("OK"));
    expect(await consumer.receive(32, INVISIBLE_MS)).toEqual([]);
  });
});
