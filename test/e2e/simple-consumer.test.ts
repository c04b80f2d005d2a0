/**
 * SimpleConsumer (POP) end to end, the real client against the real server: every message of a
 * multi-queue topic received exactly once by two receivers of one group, batch acks with each
 * handle's status, stale handles after a change of invisibility, a receive long poll woken by a
 * send, tag filters, orderly message groups, and a group refused when it mixes POP and offsets
 * (on one queue, and across the group: a POP group refuses push members and the other way round).
 * Invisibility expiry runs on an injected clock in durable-objects/queue/pop.test.ts.
 */
import { describe, expect } from "vitest";
import { MessageSelector, PullConsumer, PushConsumer, SimpleConsumer, bodyText, concurrently, isMQError, type ReceivedMessage } from "../../client/index.js";
import { it } from "../fixture.js";
import { uniqueName } from "../helpers.js";
import { decodeFramed, FRAMED_MEDIA_TYPE } from "../../protocol/framed-messages.js";
import type { ReceivedMessageWire } from "../../protocol/receipt-handle.js";

const INVISIBLE_MS = 60_000;

describe("SimpleConsumer", () => {
  it("two receivers of a group get every message exactly once; batch ack, then the handles are spent", async ({ server, admin, producer }) => {
    const topic = uniqueName("Pop");
    await admin.createTopic(topic, { queueNums: 2 });
    const total = 40;
    for (let i = 0; i < total; i++) await producer.send({ topic, body: `m${i}` });
    const group = uniqueName("sc");
    const make = () => new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group, awaitDurationMs: 0 }).subscribe(topic);
    const [a, b] = [make(), make()];
    const got: ReceivedMessage[] = [];
    for (let round = 0; round < 20; round++) {
      const [x, y] = await Promise.all([a.receive(7, INVISIBLE_MS), b.receive(7, INVISIBLE_MS)]);
      expect(x.length).toBeLessThanOrEqual(7);
      got.push(...x, ...y);
      if (x.length === 0 && y.length === 0) break;
    }
    expect(got.map((m) => bodyText(m)).sort()).toEqual(Array.from({ length: total }, (_, i) => `m${i}`).sort());
    expect(got.every((m) => m.reconsumeTimes === 0 && m.invisibleUntil > Date.now() && m.firstReceivedAt <= Date.now())).toBe(true);

    expect(await a.ackAll([...got, { ...got[0]!, receiptHandle: "garbage" }])).toEqual([...got.map(() => "OK"), "RECEIPT_HANDLE_INVALID"]);
    expect(await a.ackAll(got.slice(0, 3))).toEqual(["RECEIPT_HANDLE_INVALID", "RECEIPT_HANDLE_INVALID", "RECEIPT_HANDLE_INVALID"]);
    expect(await a.receive(32, INVISIBLE_MS)).toEqual([]);
  });

  it("answers a receive framed (raw bodies after a JSON head) when asked, with the acks it carried, and JSON otherwise", async ({
    server,
    admin,
    producer,
  }) => {
    const topic = uniqueName("PopFramed");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const bodies = [new Uint8Array([0, 255, 1]), new TextEncoder().encode("zwei ✓"), new Uint8Array([7])];
    for (const body of bodies) await producer.send({ topic, body });
    const group = uniqueName("sc");
    const url = `${server.url}/groups/${group}/receive`;
    const receive = (accept: string | undefined, extra: object = {}) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
        body: JSON.stringify({ topic, maxMessageNum: 2, invisibleDurationMs: INVISIBLE_MS, maxWaitMs: 0, ...extra }),
      });
    const framed = await receive(`${FRAMED_MEDIA_TYPE}, application/json`);
    expect(framed.headers.get("content-type")).toBe(FRAMED_MEDIA_TYPE);
    const first = decodeFramed<{ messages: ReceivedMessageWire[] }>(new Uint8Array(await framed.arrayBuffer()))!;
    expect(first.messages.map((m) => Array.from(m.body))).toEqual(bodies.slice(0, 2).map((b) => Array.from(b)));
    expect(first.messages.every((m) => m.receiptHandle.length > 0 && m.invisibleUntil > Date.now())).toBe(true);

    // The next receive carries the acks of the first; its answer gives their outcomes.
    const again = await receive(FRAMED_MEDIA_TYPE, { ackReceiptHandles: first.messages.map((m) => m.receiptHandle) });
    const second = decodeFramed<{ messages: ReceivedMessageWire[]; ackResults: { status: string }[] }>(new Uint8Array(await again.arrayBuffer()))!;
    expect(second.ackResults.map((r) => r.status)).toEqual(["OK", "OK"]);
    expect(second.messages.map((m) => Array.from(m.body))).toEqual([[7]]);

    // Without the media type in Accept: JSON, bodies in base64.
    await producer.send({ topic, body: "json" });
    const json = (await (await receive(undefined)).json()) as { messages: ReceivedMessageWire[] };
    expect(json.messages.map((m) => m.body)).toEqual([Buffer.from("json").toString("base64")]);
  });

  it("a change of invisibility gives a new handle and spends the old one", async ({ server, admin, producer }) => {
    const topic = uniqueName("Pop");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send({ topic, body: "x" });
    const consumer = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("sc"), awaitDurationMs: 0 }).subscribe(
      topic,
    );
    const [held] = await consumer.receive(1, INVISIBLE_MS);
    if (!held) throw new Error("nothing received");
    const changed = await consumer.changeInvisibleDuration(held, 120_000);
    expect(changed.receiptHandle).not.toBe(held.receiptHandle);
    expect(changed.invisibleUntil).toBeGreaterThan(held.invisibleUntil);
    const stale = await consumer.ack(held).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(stale) && stale.code).toBe("RECEIPT_HANDLE_EXPIRED");
    const again = await consumer.changeInvisibleDuration(held, 120_000).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(again) && again.code).toBe("RECEIPT_HANDLE_EXPIRED");
    await consumer.ack(changed);
    const twice = await consumer.ack(changed).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(twice) && twice.code).toBe("RECEIPT_HANDLE_INVALID");
    const bad = await consumer.changeInvisibleDuration(changed, 5_000).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(bad) && bad.code).toBe("VALIDATION_FAILED");
  });

  it("a waiting receive is answered by a send; tag filters pass what they reject", async ({ server, admin, producer }) => {
    const topic = uniqueName("Pop");
    await admin.createTopic(topic, { queueNums: 2 });
    const consumer = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("sc"), awaitDurationMs: 15_000 }).subscribe(
      topic,
      MessageSelector.byTag("A"),
    );
    const waiting = consumer.receive(32, INVISIBLE_MS);
    await producer.send({ topic, body: "skip", tags: "B" });
    await producer.send({ topic, body: "take", tags: "A" });
    let got = await waiting;
    // The send of "skip" may have woken the receive first: it then waits again for "take".
    if (got.length === 0) got = await consumer.receive(32, INVISIBLE_MS);
    expect(got.map((m) => bodyText(m))).toEqual(["take"]);
  });

  it("an orderly group hands out a message group's next message only after the earlier one is acked", async ({ server, admin, producer }) => {
    const topic = uniqueName("Pop");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    for (let i = 0; i < 3; i++) await producer.send({ topic, body: `k${i}`, properties: { __SHARDINGKEY: "k" } });
    const consumer = new SimpleConsumer({
      endpoint: server.url,
      credentials: server.credentials,
      group: uniqueName("sc"),
      awaitDurationMs: 0,
      orderly: true,
    }).subscribe(topic);
    const [first] = await consumer.receive(1, INVISIBLE_MS);
    expect(first && bodyText(first)).toBe("k0");
    expect(await consumer.receive(32, INVISIBLE_MS)).toEqual([]);
    await consumer.ack(first!);
    expect((await consumer.receive(32, INVISIBLE_MS)).map((m) => bodyText(m))).toEqual(["k1", "k2"]);
  });

  it("refuses a group that consumes one queue both by POP and by offsets", async ({ server, admin, producer }) => {
    const topic = uniqueName("Pop");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send({ topic, body: "x" });
    const group = uniqueName("sc");
    const simple = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group, awaitDurationMs: 0 }).subscribe(topic);
    await simple.receive(1, INVISIBLE_MS);
    const pull = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group });
    const [mq] = await pull.fetchSubscribeMessageQueues(topic);
    const refused = await pull.updateConsumeOffset(mq!, 1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(refused) && refused.code).toBe("CONSUME_MODE_MISMATCH");
  });

  it("a POP group refuses push members on any topic, a group with push members refuses receives, and deleting the group frees it", async ({
    server,
    admin,
    producer,
  }) => {
    const [popTopic, pushTopic] = [uniqueName("Pop"), uniqueName("Push")];
    await admin.createTopic(popTopic, { queueNums: 1, brokers: ["broker-a"] });
    await admin.createTopic(pushTopic, { queueNums: 1, brokers: ["broker-a"] });
    await producer.send({ topic: popTopic, body: "x" });
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => (isMQError(e) ? e.code : String(e)),
      );
    const pushMember = (group: string) => {
      const c = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group, heartbeatIntervalMs: 1000, sessionTimeoutMs: 5000 });
      c.subscribe(pushTopic);
      c.registerMessageListener(concurrently(() => "CONSUME_SUCCESS"));
      return c;
    };

    const popGroup = uniqueName("sc");
    const simple = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group: popGroup, awaitDurationMs: 0 }).subscribe(popTopic);
    const [held] = await simple.receive(1, INVISIBLE_MS);
    await simple.ack(held!);
    expect(await codeOf(pushMember(popGroup).start())).toBe("CONSUME_MODE_MISMATCH");
    expect((await admin.groupInfo(popGroup)).consumeMode).toBe("POP");

    const pushGroup = uniqueName("cg");
    const member = pushMember(pushGroup);
    await member.start();
    try {
      const receiver = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group: pushGroup, awaitDurationMs: 0 }).subscribe(popTopic);
      expect(await codeOf(receiver.receive(1, INVISIBLE_MS))).toBe("CONSUME_MODE_MISMATCH");
    } finally {
      await member.shutdown();
    }

    await admin.deleteSubscriptionGroup(popGroup);
    const rejoined = pushMember(popGroup);
    await rejoined.start();
    await rejoined.shutdown();
  });

  it("a POP group's progress names the topics it received from and counts what is in flight as lag", async ({ server, admin, producer }) => {
    const topic = uniqueName("PopLag");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `p-${i}` });
    const group = uniqueName("sc");
    const consumer = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group, awaitDurationMs: 0 }).subscribe(topic);
    const held = await consumer.receive(3, INVISIBLE_MS);
    expect(held).toHaveLength(3);
    await consumer.ack(held[0]!);
    // No ?topic: a POP group has no members whose subscriptions would name it.
    const progress = await admin.consumerProgress(group);
    expect(progress.totalLag).toBe(4); // 2 not received yet + 2 received and not acked
    expect(progress.queues).toEqual([expect.objectContaining({ brokerOffset: 5, consumerOffset: 3, inflight: 2, lag: 4 })]);
  });
});
