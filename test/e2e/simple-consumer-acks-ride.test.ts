/**
 * Acks that ride the next receive (client/held-acks.ts, POST /groups/:group/receive with
 * ackReceiptHandles), the real client against the real server: a receive-and-ack loop is one
 * request per batch and never sees an acked message again; a receive carrying acks answers them
 * at once instead of waiting; stale handles get their status; a refused receive acks nothing and
 * its acks leave on their own, and one that fails after acking still answers the acks; an aborted receive still answers its acks; an orderly group's next
 * message goes out in the same answer as the ack of the one before.
 */
import { describe, expect } from "vitest";
import type { Credentials } from "../../client/credentials.js";
import { SimpleConsumer, bodyText, isMQError, type ReceivedMessage, type SimpleConsumerOptions } from "../../client/index.js";
import { it } from "../fixture.js";
import { uniqueName } from "../helpers.js";

const INVISIBLE_MS = 60_000;

/** A fetch that records the path of every request the client sends. */
function recordingFetch(): { fetch: typeof fetch; paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    fetch: (input, init) => {
      paths.push(new URL(input instanceof Request ? input.url : input).pathname);
      return fetch(input, init);
    },
  };
}

/** A SimpleConsumer of a new group, subscribed to `topic`. */
function receiverOf(server: { url: string; credentials: Credentials | null }, topic: string, options: Partial<SimpleConsumerOptions>): SimpleConsumer {
  return new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("sc"), ...options }).subscribe(topic);
}

describe("acks that ride the next receive", () => {
  it("a receive-and-ack loop is one request per batch, and every message comes once", async ({ server, admin, producer }) => {
    const topic = uniqueName("Ride");
    await admin.createTopic(topic, { queueNums: 2 });
    const total = 60;
    await producer.send(Array.from({ length: total / 2 }, (_, i) => ({ topic, body: `a${i}` })));
    await producer.send(Array.from({ length: total / 2 }, (_, i) => ({ topic, body: `b${i}` })));
    const recorder = recordingFetch();
    const consumer = receiverOf(server, topic, { awaitDurationMs: 0, fetch: recorder.fetch });
    const bodies: string[] = [];
    const acks: Promise<string[]>[] = [];
    for (let round = 0; round < 10; round++) {
      const got = await consumer.receive(8, INVISIBLE_MS);
      bodies.push(...got.map((m) => bodyText(m)));
      if (got.length === 0) break;
      acks.push(consumer.ackAll(got)); // not awaited: the next receive carries it
    }
    const statuses = (await Promise.all(acks)).flat();
    expect(statuses).toHaveLength(total);
    expect(statuses.every((s) => s === "OK")).toBe(true);
    expect(bodies.sort()).toEqual([...Array.from({ length: total / 2 }, (_, i) => `a${i}`), ...Array.from({ length: total / 2 }, (_, i) => `b${i}`)].sort());
    // Every ack rode a receive: no ack request at all.
    expect(recorder.paths.filter((p) => p.endsWith("/ack"))).toEqual([]);
    // Every ack took: nothing is in flight or left to consume.
    const progress = await admin.consumerProgress(consumer.group);
    expect(progress.totalLag).toBe(0);
    expect(progress.queues.length).toBeGreaterThan(0);
    expect(progress.queues.every((q) => q.inflight === 0)).toBe(true);
  });

  it("a receive carrying acks answers them at once, then waits for messages without them", async ({ server, admin, producer }) => {
    const topic = uniqueName("Ride");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send({ topic, body: "only" });
    const consumer = receiverOf(server, topic, { awaitDurationMs: 20_000 });
    const [held] = await consumer.receive(1, INVISIBLE_MS);
    if (!held) throw new Error("nothing received");
    const ack = consumer.ack(held);
    let answered = false;
    const waiting = consumer.receive(1, INVISIBLE_MS).finally(() => (answered = true));
    await ack;
    expect(answered).toBe(false); // the ack's answer came while the receive goes on waiting
    await producer.send({ topic, body: "next" });
    const [next] = await waiting;
    expect(next && bodyText(next)).toBe("next");
  });

  it("a stale handle carried by a receive gets its status; acks given in one tick leave together", async ({ server, admin, producer }) => {
    const topic = uniqueName("Ride");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send(Array.from({ length: 3 }, (_, i) => ({ topic, body: `m${i}` })));
    const recorder = recordingFetch();
    const consumer = receiverOf(server, topic, { awaitDurationMs: 0, fetch: recorder.fetch });
    const got = await consumer.receive(3, INVISIBLE_MS);
    expect(got).toHaveLength(3);
    const changed = await consumer.changeInvisibleDuration(got[0]!, 120_000);
    // Three acks in one tick and no receive after them: one ack request.
    const before = recorder.paths.length;
    const outcomes = await Promise.all([consumer.ackAll([got[0]!]), consumer.ackAll([got[1]!]), consumer.ackAll([{ ...got[2]!, receiptHandle: "garbage" }])]);
    expect(outcomes).toEqual([["RECEIPT_HANDLE_EXPIRED"], ["OK"], ["RECEIPT_HANDLE_INVALID"]]);
    expect(recorder.paths.slice(before)).toEqual([`/groups/${consumer.group}/ack`]);
    // A spent handle carried by a receive: its status comes back, the receive goes on.
    const spent = consumer.ackAll([got[1]!]);
    const stillHeld = consumer.ackAll([changed, got[2]!]);
    expect(await consumer.receive(32, INVISIBLE_MS)).toEqual([]);
    expect(await spent).toEqual(["RECEIPT_HANDLE_INVALID"]);
    expect(await stillHeld).toEqual(["OK", "OK"]);
    expect(recorder.paths.slice(before + 1).every((p) => p.endsWith("/receive"))).toBe(true);
  });

  it("a refused receive acks nothing, and its acks leave on their own", async ({ server, admin, producer }) => {
    const topic = uniqueName("Ride");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send({ topic, body: "x" });
    const consumer = receiverOf(server, topic, { awaitDurationMs: 0 });
    const [held] = await consumer.receive(1, INVISIBLE_MS);
    if (!held) throw new Error("nothing received");
    consumer.unsubscribe(topic).subscribe(uniqueName("NoSuchTopic"));
    const ack = consumer.ackAll([held]);
    const refused = await consumer.receive(1, INVISIBLE_MS).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(refused) && refused.code).toBe("TOPIC_NOT_EXIST");
    expect(await ack).toEqual(["OK"]);
  });

  it("a receive that fails after its first queue acked answers the acks, and the failure comes on the next ask", async ({ server, admin, producer, call }) => {
    const topic = uniqueName("Ride");
    await admin.createTopic(topic, { queueNums: 2, brokers: ["broker-a"] });
    await producer.send({ topic, body: "x" }, { messageQueue: { topic, brokerName: "broker-a", queueId: 0 } });
    const consumer = receiverOf(server, topic, { awaitDurationMs: 0 });
    const [held] = await consumer.receive(1, INVISIBLE_MS);
    if (!held) throw new Error("nothing received");
    // The group commits an offset on queue 1, where it has no POP state: receiving there is refused.
    const commit = await call(server.credentials, "PUT", `/brokers/broker-a/topics/${topic}/queues/1/groups/${consumer.group}/offset`, { body: { offset: 0 } });
    expect(commit.status).toBe(200);
    const ack = consumer.ackAll([held]);
    const refused = await consumer.receive(1, INVISIBLE_MS).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(refused) && refused.code).toBe("CONSUME_MODE_MISMATCH");
    expect(await ack).toEqual(["OK"]); // acked once, and answered so
    expect((await admin.consumerProgress(consumer.group)).queues.every((q) => q.inflight === 0)).toBe(true);
  });

  it("an aborted receive that carries acks still answers them", async ({ server, admin, producer }) => {
    const topic = uniqueName("Ride");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send(Array.from({ length: 2 }, (_, i) => ({ topic, body: `m${i}` })));
    const consumer = receiverOf(server, topic, { awaitDurationMs: 0 });
    const [first] = await consumer.receive(1, INVISIBLE_MS);
    if (!first) throw new Error("nothing received");
    const stop = new AbortController();
    const ack = consumer.ackAll([first]);
    const aborted = consumer.receive(1, INVISIBLE_MS, { signal: stop.signal }).then(
      () => null,
      (e: unknown) => e,
    );
    stop.abort();
    const error = await aborted;
    expect(isMQError(error) && error.code).toBe("ABORTED");
    expect(await ack).toEqual(["OK"]);
  });

  it("an orderly group's next message of a key goes out in the answer that acks the one before", async ({ server, admin, producer }) => {
    const topic = uniqueName("Ride");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    for (let i = 0; i < 3; i++) await producer.send({ topic, body: `k${i}`, properties: { __SHARDINGKEY: "k" } });
    const consumer = receiverOf(server, topic, { awaitDurationMs: 0, orderly: true });
    const first: ReceivedMessage[] = await consumer.receive(1, INVISIBLE_MS);
    expect(first.map((m) => bodyText(m))).toEqual(["k0"]);
    // k0 in flight holds the key back; acked in the same request, it no longer does.
    const ack = consumer.ackAll(first);
    expect((await consumer.receive(32, INVISIBLE_MS)).map((m) => bodyText(m))).toEqual(["k1", "k2"]);
    expect(await ack).toEqual(["OK"]);
  });
});
