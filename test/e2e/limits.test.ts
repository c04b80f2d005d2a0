/**
 * Issue 12 item 1 end to end: the worst case of every documented limit at once (64 keys of 255
 * characters, a full 32 KiB properties block, 4 MiB bodies, as many messages as a 6 MiB request
 * holds, 1,024 messages; test/fuzz/limit-edge.ts) through the real server and client: send,
 * batch, group commit with other tenants' sends, delayed delivery of many due messages by the
 * alarm, retry through %RETRY%, the dead-letter queue and back, transaction commit, and
 * replication to the slave (one per broker in the default configuration). Every stored message
 * is read back byte for byte, found by its keys, and found on the slave.
 */
import { describe, expect } from "vitest";
import { Admin, Producer, PushConsumer, TransactionProducer, concurrently, type Message, type MessageExt, type MessageQueue } from "../../client/index.js";
import type { PullResultWire } from "../../protocol/message.js";
import { FAST, FAST_LEVELS } from "../consumer-helpers.js";
import { EDGE_BATCH_SHAPES, edgeBatch, edgeMessage, edgeSingle, overEdges, type EdgeMessage } from "../fuzz/limit-edge.js";
import { test, it } from "../fixture.js";
import { http, uniqueName, waitFor, type TestServer } from "../helpers.js";

/** Requests of megabytes on a shared 2-core machine: generous timeouts, never a retry elsewhere. */
const SLOW = { sendMsgTimeoutMs: 60_000, requestTimeoutMs: 60_000 };

test.override("serverOptions", { vars: { MESSAGE_DELAY_LEVEL: FAST_LEVELS } });
test.override("producerOptions", SLOW);
test.override("admin", ({ server }) => new Admin({ endpoint: server.url, credentials: server.credentials, requestTimeoutMs: 60_000 }));

function toMessage(topic: string, m: EdgeMessage): Message {
  return { topic, body: m.body, tags: m.tags, keys: m.keys, properties: m.properties };
}

/** The received message carries what was sent: tags, keys, every user property, the body byte for byte. */
function expectSame(got: Pick<MessageExt, "tags" | "keys" | "properties" | "body">, sent: EdgeMessage): void {
  expect(got.tags).toBe(sent.tags);
  expect(got.keys).toEqual(sent.keys);
  for (const [name, value] of Object.entries(sent.properties)) expect(got.properties[name]).toBe(value);
  expect(got.body.length).toBe(sent.body.length);
  expect(Buffer.compare(Buffer.from(got.body), Buffer.from(sent.body))).toBe(0);
}

/** The message at `offset` on the slave (brokerId 1), once replication brought it. */
async function onSlave(server: TestServer, mq: MessageQueue, offset: number): Promise<MessageExt> {
  const url = `${server.url}/brokers/${mq.brokerName}/topics/${encodeURIComponent(mq.topic)}/queues/${mq.queueId}/messages?offset=${offset}&maxNums=1&maxWaitMs=0&brokerId=1`;
  let found: MessageExt | undefined;
  await waitFor(
    `offset ${offset} on the slave`,
    async () => {
      const r = await http(url);
      expect(r.status).toBe(200);
      const pull = r.body as unknown as PullResultWire;
      const m = pull.pullStatus === "FOUND" ? pull.messages[0] : undefined;
      if (m?.queueOffset === offset) found = { ...m, body: new Uint8Array(Buffer.from(m.body, "base64")) };
      return found !== undefined;
    },
    30_000,
  );
  return found!;
}

/** Checks a stored message on the master, by its keys, and on the slave. */
async function expectStored({ server, admin }: { server: TestServer; admin: Admin }, mq: MessageQueue, offset: number, sent: EdgeMessage): Promise<void> {
  const got = await admin.viewMessageByOffset(mq, offset);
  expectSame(got, sent);
  for (const key of [sent.keys[0]!, sent.keys[sent.keys.length - 1]!]) {
    const found = await admin.queryMessage(mq.topic, key);
    expect(found.map((m) => m.msgId)).toEqual([got.msgId]);
  }
  expectSame(await onSlave(server, mq, offset), sent);
}

async function createTopic(admin: Admin, prefix: string): Promise<MessageQueue> {
  const topic = uniqueName(prefix);
  await admin.createTopic(topic, { queueNums: 1 });
  return { topic, brokerName: "broker-a", queueId: 0 };
}

describe("issue 12 item 1: every write path at the edge of every documented limit", { timeout: 180_000 }, () => {
  it("item 1: a single message and every batch shape at the limits are stored, found by key and replicated", async ({ server, admin, producer }) => {
    const mq = await createTopic(admin, "EdgeSend");
    const stored: { offset: number; sent: EdgeMessage }[] = [];
    const single = edgeSingle(`${mq.topic}S`);
    const r = await producer.send(toMessage(mq.topic, single), { messageQueue: mq });
    expect(r.sendStatus).toBe("SEND_OK");
    stored.push({ offset: r.queueOffset, sent: single });
    for (const shape of EDGE_BATCH_SHAPES) {
      const batch = edgeBatch(`${mq.topic}${shape.length}`, shape);
      const b = await producer.send(
        batch.map((m) => toMessage(mq.topic, m)),
        { messageQueue: mq },
      );
      expect({ shape, status: b.sendStatus, count: b.msgIds?.length }).toEqual({ shape, status: "SEND_OK", count: batch.length });
      stored.push({ offset: b.queueOffset, sent: batch[0]! }, { offset: b.queueOffset + batch.length - 1, sent: batch[batch.length - 1]! });
    }
    for (const s of stored) await expectStored({ server, admin }, mq, s.offset, s.sent);
  });

  it("item 1: key-heavy batches of one tenant group-committed with other tenants' small sends all succeed", async ({ server, admin, producer }) => {
    const mq = await createTopic(admin, "EdgeGroup");
    const other = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("small_pg"), ...SLOW });
    await other.start();
    try {
      const heavy = [edgeBatch(`${mq.topic}H1`, "max keys"), edgeBatch(`${mq.topic}H2`, "max keys")];
      const results = await Promise.all([
        ...heavy.map((batch) =>
          producer.send(
            batch.map((m) => toMessage(mq.topic, m)),
            { messageQueue: mq },
          ),
        ),
        ...Array.from({ length: 20 }, (_, i) => other.send({ topic: mq.topic, body: `small-${i}`, keys: [`${mq.topic}-small-${i}`] }, { messageQueue: mq })),
      ]);
      expect(results.map((r) => r.sendStatus)).toEqual(results.map(() => "SEND_OK"));
      const total = heavy.reduce((n, b) => n + b.length, 0) + 20;
      expect((await admin.queueStats(mq)).maxOffset).toBe(total);
      for (let i = 0; i < 20; i++) {
        const found = await admin.queryMessage(mq.topic, `${mq.topic}-small-${i}`);
        expect(found.map((m) => m.queueOffset)).toEqual([results[2 + i]!.queueOffset]);
      }
      for (const [i, batch] of heavy.entries()) await expectStored({ server, admin }, mq, results[i]!.queueOffset + batch.length - 1, batch[batch.length - 1]!);
    } finally {
      await other.shutdown();
    }
  });

  it("item 1: 150 timer messages at the limits due at once, and a delayed 4 MiB one, are delivered by the alarm", async ({ server, admin, producer }) => {
    const mq = await createTopic(admin, "EdgeDelay");
    const messages = Array.from({ length: 150 }, (_, i) => edgeMessage(`${mq.topic}D`, i));
    // One due time for all (sends take well under it, unless the machine is very slow: then some
    // are simply delivered at once, which is correct too).
    const dueAt = Date.now() + 3000;
    for (let i = 0; i < messages.length; i += 10) {
      const results = await Promise.all(
        messages.slice(i, i + 10).map((m) => producer.send({ ...toMessage(mq.topic, m), deliverTimeMs: dueAt }, { messageQueue: mq })),
      );
      expect(results.map((r) => r.sendStatus)).toEqual(results.map(() => "SEND_OK"));
    }
    const big = edgeSingle(`${mq.topic}L`);
    expect((await producer.send({ ...toMessage(mq.topic, big), delayTimeLevel: 2 }, { messageQueue: mq })).sendStatus).toBe("SEND_OK");
    await waitFor("all 151 delivered", async () => (await admin.queueStats(mq)).maxOffset === 151, 60_000);
    expect((await admin.delayStats(mq.topic)).count).toBe(0);
    // Offsets are given at delivery: find each message by its keys.
    for (const m of [...messages.filter((_, i) => i % 30 === 0), messages[149]!, big]) {
      const found = await admin.queryMessage(mq.topic, m.keys[0]!);
      expect(found).toHaveLength(1);
      await expectStored({ server, admin }, mq, found[0]!.queueOffset, m);
    }
  });

  it("item 1: messages at the limits go to %RETRY% and back, and to the DLQ and back, keys and properties intact", async ({ server, admin, producer }) => {
    const mq = await createTopic(admin, "EdgeRetry");
    const group = uniqueName("edge_cg");
    const messages = [...Array.from({ length: 150 }, (_, i) => edgeMessage(`${mq.topic}R`, i)), edgeSingle(`${mq.topic}RB`)];
    const seen = new Map<string, MessageExt[]>();
    const dlqKey = messages[0]!.keys[0]!;
    const consumer = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group, ...FAST, requestTimeoutMs: 60_000 });
    consumer.subscribe(mq.topic);
    consumer.registerMessageListener(
      concurrently((msgs, context) => {
        const m = msgs[0]!;
        seen.set(m.keys[0]!, [...(seen.get(m.keys[0]!) ?? []), m]);
        if (m.reconsumeTimes > 0 || m.properties.DLQ_RESENT_FROM) return "CONSUME_SUCCESS";
        // The first message goes straight to the dead-letter queue, the others to the retry topic.
        if (m.keys[0] === dlqKey) context.delayLevelWhenNextConsume = -1;
        return "RECONSUME_LATER";
      }),
    );
    await consumer.start();
    try {
      await waitFor("queues", () => consumer.assignedQueues.some((q) => q.topic === mq.topic));
      const sent = await producer.send(
        messages.slice(0, 150).map((m) => toMessage(mq.topic, m)),
        { messageQueue: mq },
      );
      expect(sent.sendStatus).toBe("SEND_OK");
      expect((await producer.send(toMessage(mq.topic, messages[150]!), { messageQueue: mq })).sendStatus).toBe("SEND_OK");
      // Every message but the dead-lettered one: delivered, failed, retried from %RETRY%.
      await waitFor("every retry", () => messages.slice(1).every((m) => (seen.get(m.keys[0]!)?.length ?? 0) >= 2), 60_000);
      for (const m of messages.slice(1)) {
        const deliveries = seen.get(m.keys[0]!)!;
        expect(deliveries.map((d) => d.reconsumeTimes)).toEqual([0, 1]);
        expect(deliveries[1]!.topic).toBe(mq.topic);
        expectSame(deliveries[1]!, m);
      }
      // The dead-lettered one, listed and resent to its topic, where the group consumes it again.
      const dlq = await admin.listDlq(group);
      expect(dlq).toHaveLength(1);
      expectSame(dlq[0]!, messages[0]!);
      expect(await admin.resendDlq(group, { all: true })).toEqual({ resent: 1 });
      await waitFor("the resent message", () => (seen.get(dlqKey)?.length ?? 0) >= 2, 30_000);
      expectSame(seen.get(dlqKey)![1]!, messages[0]!);
      // The retry topic's queue replicated its rows too.
      const retry = { topic: `%RETRY%${group}`, brokerName: "broker-a", queueId: 0 };
      const retried = await admin.queueStats(retry);
      expect(retried.maxOffset).toBeGreaterThan(0);
      expect((await onSlave(server, retry, retried.maxOffset - 1)).keys.length).toBeGreaterThan(0);
    } finally {
      await consumer.shutdown();
    }
  });

  it("item 1: transactions at the limits commit, are found by key and replicated", async ({ server, admin }) => {
    const mq = await createTopic(admin, "EdgeTx");
    const producerTx = new TransactionProducer({
      endpoint: server.url,
      credentials: server.credentials,
      group: uniqueName("edge_txpg"),
      ...SLOW,
      transactionListener: { executeLocalTransaction: () => "COMMIT_MESSAGE", checkLocalTransaction: () => "COMMIT_MESSAGE" },
    });
    await producerTx.start();
    try {
      const messages = [edgeSingle(`${mq.topic}T`), ...Array.from({ length: 20 }, (_, i) => edgeMessage(`${mq.topic}T`, i + 1))];
      const results = await Promise.all(messages.map((m) => producerTx.sendMessageInTransaction(toMessage(mq.topic, m), null)));
      expect(results.map((r) => r.localTransactionState)).toEqual(results.map(() => "COMMIT_MESSAGE"));
      await waitFor("20 committed", async () => (await admin.topicStatus(mq.topic)).queues.reduce((n, q) => n + q.maxOffset, 0) === messages.length);
      for (const m of [messages[0]!, messages[20]!]) {
        const found = await admin.queryMessage(mq.topic, m.keys[0]!);
        expect(found).toHaveLength(1);
        const f = found[0]!;
        await expectStored({ server, admin }, { topic: f.topic, brokerName: f.brokerName, queueId: f.queueId }, f.queueOffset, m);
      }
    } finally {
      await producerTx.shutdown();
    }
  });

  it("item 1: just over a limit is refused with its documented 4xx and stores nothing", async ({ server, admin }) => {
    const mq = await createTopic(admin, "EdgeOver");
    const url = `${server.url}/brokers/${mq.brokerName}/topics/${encodeURIComponent(mq.topic)}/queues/${mq.queueId}/messages`;
    for (const over of overEdges(mq.topic)) {
      const r = await http(url, { method: "POST", body: { messages: over.messages } });
      expect({ name: over.name, status: r.status, code: r.body.code }).toEqual({ name: over.name, status: over.status, code: over.code });
    }
    expect((await admin.queueStats(mq)).maxOffset).toBe(0);
  });
});
