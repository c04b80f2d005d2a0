/**
 * Orderly consumption and transactions of the Alibaba Cloud HTTP door, driven by Alibaba Cloud's
 * own Node SDK (`@aliyunmq/mq-http-sdk`) against a real server, as the SDK's official samples
 * use them (order-producer/order-consumer, trans-producer). The waits are the protocol's: an
 * orderly redelivery after the invisible time (10 s here, the SimpleConsumer's minimum), the
 * first transaction check after __TransCheckT (10 s, the protocol's minimum), the next one after
 * TRANSACTION_CHECK_INTERVAL_MS (6 s here).
 */
import { describe, expect } from "vitest";
import type { MQConsumer, SdkMessage } from "@aliyunmq/mq-http-sdk";
import { ROOT } from "../auth-helpers.js";
import { consumeCount, consumeOnce, MessageProperties, MQClient } from "../aliyun-sdk.js";
import { test, it } from "../fixture.js";
import { uniqueName, waitFor } from "../helpers.js";

const INSTANCE = "MQ_INST_flaremq";

test.override("serverOptions", {
  vars: {
    FLAREMQ_ACCOUNTS: JSON.stringify([{ ...ROOT, admin: true }]),
    ALIYUN_ORDERLY_INVISIBLE_MS: "10000",
    TRANSACTION_CHECK_INTERVAL_MS: "6000",
  },
  credentials: ROOT,
});

const key = (m: SdkMessage) => m.ShardingKey ?? "";
const a = (m: SdkMessage) => Number(m.Properties.a);

describe("orderly consumption (trans=order)", () => {
  it("delivers each sharding key in publish order, one unacked batch per key at a time", async ({ server, admin }) => {
    const topic = uniqueName("aliorder");
    await admin.createTopic(topic, { queueNums: 2, brokers: ["broker-a"] });
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const producer = client.getProducer(INSTANCE, topic);
    for (let i = 0; i < 8; i++) {
      const props = new MessageProperties();
      props.putProperty("a", String(i));
      props.shardingKey(String(i % 2));
      expect((await producer.publishMessage(`order ${i}`, "", props)).code).toBe(201);
    }
    const consumer: MQConsumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));

    // A first batch, not acked: its keys hand out nothing more until it comes back.
    const first = await waitFor("a first orderly batch", async () => {
      const got = await consumeOnce(consumer, 3, 3, true);
      return got.length > 0 ? got : undefined;
    });
    const held = new Set(first.map(key));
    const seen: SdkMessage[] = [];
    // Until NextConsumeTime the held keys hand out nothing; then the same messages come back
    // first, in order, with new handles. Other keys' batches are acked meanwhile.
    const again = await waitFor(
      "the orderly redelivery",
      async () => {
        const got = await consumeOnce(consumer, 3, 3, true);
        if (got.some((m) => m.ConsumedTimes === "2")) return got;
        expect(got.filter((m) => held.has(key(m)))).toEqual([]);
        if (got.length > 0) expect((await consumer.ackMessage(got.map((m) => m.ReceiptHandle))).code).toBe(204);
        seen.push(...got);
        return undefined;
      },
      30_000,
    );
    const redelivered = again.filter((m) => m.ConsumedTimes === "2");
    expect(redelivered.map((m) => m.MessageId)).toEqual(first.map((m) => m.MessageId));
    expect(redelivered.every((m, i) => m.ReceiptHandle !== first[i]!.ReceiptHandle)).toBe(true);

    // Everything, batch by batch, each acked before the next: per key in publish order.
    seen.push(...again);
    expect((await consumer.ackMessage(again.map((m) => m.ReceiptHandle))).code).toBe(204);
    await waitFor("every orderly message", async () => {
      const got = await consumeOnce(consumer, 3, 3, true);
      if (got.length > 0) expect((await consumer.ackMessage(got.map((m) => m.ReceiptHandle))).code).toBe(204);
      seen.push(...got);
      return new Set(seen.map(a)).size === 8 || undefined;
    });
    for (const k of ["0", "1"]) {
      const order = seen.filter((m) => key(m) === k).map(a);
      // Messages of a key come in publish order (a redelivery repeats a prefix of it).
      expect([...new Set(order)]).toEqual(k === "0" ? [0, 2, 4, 6] : [1, 3, 5, 7]);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });
});

describe("transactions (trans=pop|commit|rollback)", () => {
  it("commits at publish, checks back through half-message consume, commits and rolls back there", async ({ server, admin }) => {
    const topic = uniqueName("alitx");
    await admin.createTopic(topic, { queueNums: 2, brokers: ["broker-a"] });
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const tx = client.getTransProducer(INSTANCE, topic, uniqueName("GID_tx"));
    const published: { handle: string; id: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const props = new MessageProperties();
      props.putProperty("a", String(i));
      props.transCheckImmunityTime(10);
      const res = await tx.publishMessage(`tx ${i}`, "", props);
      expect(res.code).toBe(201);
      expect(res.body.ReceiptHandle).toMatch(/^[A-Za-z0-9_-]+$/);
      published.push({ handle: res.body.ReceiptHandle!, id: res.body.MessageId });
    }
    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));
    // Half messages are invisible to consumers until committed.
    expect(await consumeOnce(consumer, 16, 0)).toEqual([]);
    expect((await tx.commit(published[0]!.handle)).code).toBe(204);

    const decided = new Map<number, string>();
    let secondLook: SdkMessage | undefined;
    await waitFor(
      "the check-backs of messages 1-3",
      async () => {
        let half: SdkMessage[] = [];
        try {
          half = (await tx.consumeHalfMessage(3, 3)).body;
        } catch (e) {
          if ((e as { Code?: string }).Code !== "MessageNotExist") throw e;
        }
        for (const m of half) {
          expect(m.MessageId).not.toBe(published[0]!.id); // decided at publish: never checked
          if (a(m) === 1) {
            expect((await tx.commit(m.ReceiptHandle)).code).toBe(204);
            decided.set(1, "commit");
          } else if (a(m) === 2 && m.ConsumedTimes === "1") {
            // Not decided on the first check; the publish handle has expired by now (10 s).
            const late = await tx.commit(published[2]!.handle);
            expect(late.code).toBe(404);
            expect(late.body).toEqual([expect.objectContaining({ ErrorCode: "MessageNotExist" })]);
          } else if (a(m) === 2) {
            secondLook = m;
            expect((await tx.commit(m.ReceiptHandle)).code).toBe(204);
            decided.set(2, "commit");
          } else if (a(m) === 3) {
            expect((await tx.rollback(m.ReceiptHandle)).code).toBe(204);
            decided.set(3, "rollback");
            // Decided: the other decision is refused.
            const contra = await tx.commit(m.ReceiptHandle);
            expect(contra.body).toEqual([expect.objectContaining({ ErrorCode: "ReceiptHandleError" })]);
          }
        }
        return decided.size === 3 || undefined;
      },
      45_000,
    );
    expect(secondLook?.ConsumedTimes).toBe("2");
    expect(Number(secondLook?.PublishTime)).toBeLessThan(Number(secondLook?.FirstConsumeTime));

    const got = await consumeCount(consumer, 3);
    expect(got.map((m) => m.MessageBody).sort()).toEqual(["tx 0", "tx 1", "tx 2"]);
    expect((await consumer.ackMessage(got.map((m) => m.ReceiptHandle))).code).toBe(204);
    expect(await consumeOnce(consumer, 16, 0)).toEqual([]); // the rolled-back one never shows
  });
});
