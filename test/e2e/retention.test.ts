/**
 * Retention (fileReservedTime) end to end: old messages are deleted, minOffset moves, and a
 * consumer behind resumes at minOffset. A server of its own with a 1.5 s retention, which
 * would delete what the other operations tests still read.
 */
import { describe, expect } from "vitest";
import { PullConsumer, bodyText } from "../../client/index.js";
import { FAST_LEVELS, collectingConsumer } from "../consumer-helpers.js";
import { test, it } from "../fixture.js";
import { uniqueName, waitFor } from "../helpers.js";

test.override("serverOptions", { vars: { MESSAGE_DELAY_LEVEL: FAST_LEVELS, FILE_RESERVED_TIME_MS: "1500" } });

describe("retention", () => {
  it("deletes messages older than fileReservedTime; minOffset moves; a consumer behind resumes at minOffset", async ({ server, admin, producer }) => {
    const topic = uniqueName("Retention");
    const group = uniqueName("rg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `old-${i}` }, { messageQueue: mq });
    const pull = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group });
    await pull.updateConsumeOffset(mq, 2);
    await waitFor("retention", async () => (await pull.minOffset(mq)) === 5, 10_000);
    for (let i = 0; i < 3; i++) await producer.send({ topic, body: `new-${i}` }, { messageQueue: mq });
    const progress = await admin.consumerProgress(group, topic);
    const q = progress.queues.find((p) => p.messageQueue.brokerName === "broker-a")!;
    expect(q).toMatchObject({ minOffset: 5, brokerOffset: 8, consumerOffset: 2, behindMinOffset: true, lag: 3 });
    const { seen } = await collectingConsumer(server, group, topic);
    await waitFor("the kept messages", () => seen.length >= 3);
    expect(seen.map(bodyText)).toEqual(["new-0", "new-1", "new-2"]);
    expect(seen.map((m) => m.queueOffset)).toEqual([5, 6, 7]);
  });
});
