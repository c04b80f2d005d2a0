/**
 * Operating flaremq: message query, dead-letter resend, topic status, group registry.
 * (Retention has a server of its own, in retention.test.ts.)
 */
import { describe, expect } from "vitest";
import { bodyText } from "../../client/index.js";
import { FAST_LEVELS, collectingConsumer } from "../consumer-helpers.js";
import { test, it } from "../fixture.js";
import { codeOf, uniqueName, waitFor } from "../helpers.js";

// Default retention here: a 1.5 s retention (retention.test.ts's server) deleted the first
// messages of the query test whenever sending 20 took longer than that.
test.override("serverOptions", { vars: { MESSAGE_DELAY_LEVEL: FAST_LEVELS } });

describe("message query", () => {
  it("finds exactly the 20 messages sent with a key, by msgId and by offsetMsgId; made-up ids are clean not-founds", async ({ admin, producer }) => {
    const topic = uniqueName("Query");
    await admin.createTopic(topic, { queueNums: 4 });
    const before = Date.now();
    const sent = [];
    for (let i = 0; i < 20; i++) sent.push(await producer.send({ topic, body: `q-${i}`, keys: ["order-42", `other-${i}`] }));
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `noise-${i}`, keys: ["order-43"] });
    const found = await admin.queryMessage(topic, "order-42", { maxNum: 64 });
    expect(found.map((m) => m.msgId).sort()).toEqual(sent.map((s) => s.msgId).sort());
    expect(found.map(bodyText).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `q-${i}`).sort());
    expect((await admin.queryMessage(topic, "order-42", { beginMs: before, endMs: Date.now(), maxNum: 5 })).length).toBe(5);
    expect(await admin.queryMessage(topic, "order-42", { beginMs: 0, endMs: before - 1 })).toEqual([]);
    const one = sent[7]!;
    expect(bodyText(await admin.viewMessageById(topic, one.msgId))).toBe("q-7");
    expect(bodyText(await admin.viewMessage(one.offsetMsgId))).toBe("q-7");
    expect(await codeOf(admin.viewMessageById(topic, "00000000000000000000000000000000"))).toBe("MESSAGE_NOT_FOUND");
    expect(await codeOf(admin.viewMessage("AQhicm9rZXItYQlUb3BpY1Rlc3QAAAAAAAAAAAAA"))).toBe("TOPIC_NOT_EXIST");
    expect(await codeOf(admin.queryMessage(topic, "no-such-key"))).toBe("NO_ERROR");
    const status = await admin.topicStatus(topic);
    expect(status.queues.length).toBe(8);
    expect(status.queues.reduce((n, q) => n + q.maxOffset, 0)).toBe(25);
    expect(status.queues.every((q) => q.storageBytes > 0)).toBe(true);
  });
});

describe("dead-letter queue", () => {
  it("resends a dead-lettered message, which its group then consumes again", async ({ server, admin, producer }) => {
    const topic = uniqueName("DlqResend");
    const group = uniqueName("dg");
    await admin.createTopic(topic, { queueNums: 1 });
    let healed = false;
    const { consumer: c, seen } = await collectingConsumer(server, group, topic, {
      answer: () => (healed ? "CONSUME_SUCCESS" : "RECONSUME_LATER"),
      options: { maxReconsumeTimes: 1 },
    });
    await waitFor("queues", () => c.assignedQueues.some((q) => q.topic === topic));
    const sent = await producer.send({ topic, body: "needs-a-fix" });
    await waitFor("dead-lettered", async () => (await admin.listDlq(group)).length === 1);
    const [dead] = await admin.listDlq(group);
    expect(dead!.msgId).toBe(sent.msgId);
    expect((await admin.listGroups()).map((g) => g.group)).toContain(group);
    healed = true;
    const before = seen.length;
    expect(await admin.resendDlq(group, { offsetMsgIds: [dead!.offsetMsgId] })).toEqual({ resent: 1 });
    await waitFor("consumed again", () => seen.length > before);
    const again = seen[seen.length - 1]!;
    expect(again.msgId).toBe(sent.msgId);
    expect(again.topic).toBe(topic);
    expect(again.reconsumeTimes).toBe(0);
    expect(bodyText(again)).toBe("needs-a-fix");
    const { deleted } = await admin.deleteDlq(group, { brokerName: dead!.brokerName, beforeOffset: dead!.queueOffset + 1 });
    expect(deleted).toBe(1);
    expect(await admin.listDlq(group)).toEqual([]);
  });
});
