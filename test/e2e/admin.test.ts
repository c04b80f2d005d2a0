/** Topic admin, routes, auto-create and message lookup through the real server and client. */
import { describe, expect } from "vitest";
import { PullConsumer, bodyText } from "../../client/index.js";
import { it } from "../fixture.js";
import { codeOf, uniqueName } from "../helpers.js";

describe("topic admin", () => {
  it("creates, updates, lists, routes and deletes topics", async ({ admin }) => {
    const topic = uniqueName("Admin");
    const created = await admin.createTopic(topic, { queueNums: 3 });
    expect(created.queues.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm])).toEqual([
      ["broker-a", 3, 3, 6],
      ["broker-b", 3, 3, 6],
    ]);
    const updated = await admin.updateTopic(topic, { writeQueueNums: 2, brokers: ["broker-b"] });
    expect(updated.queues).toEqual([{ brokerName: "broker-b", readQueueNums: 3, writeQueueNums: 2, perm: 6, topicSysFlag: 0 }]);
    const route = await admin.topicRoute(topic);
    expect(route.brokerDatas).toEqual([
      { cluster: "DefaultCluster", brokerName: "broker-b", brokerAddrs: { "0": "/brokers/broker-b", "1": "/brokers/broker-b?brokerId=1" } },
    ]);
    expect(route.queueDatas).toEqual(updated.queues);
    expect((await admin.listTopics()).map((t) => t.topic)).toContain(topic);
    await admin.deleteTopic(topic);
    expect((await admin.listTopics()).map((t) => t.topic)).not.toContain(topic);
    expect(await codeOf(admin.topicRoute(topic))).toBe("TOPIC_NOT_EXIST");
    expect(await codeOf(admin.deleteTopic(topic))).toBe("TOPIC_NOT_EXIST");
  });

  it("restarts offsets at 0 when a deleted topic is created again", async ({ admin, producer }) => {
    const topic = uniqueName("Recreate");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    await producer.send({ topic, body: "one" }, { messageQueue: mq });
    await producer.send({ topic, body: "two" }, { messageQueue: mq });
    await admin.deleteTopic(topic);
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const again = await producer.send({ topic, body: "three" }, { messageQueue: mq });
    expect(again.queueOffset).toBe(0);
  });

  it("auto-creates a topic on its first send with 4 queues per broker", async ({ admin, producer }) => {
    const topic = uniqueName("Auto");
    const result = await producer.send({ topic, body: "first" });
    expect(result.sendStatus).toBe("SEND_OK");
    const route = await admin.topicRoute(topic);
    expect(route.queueDatas.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums])).toEqual([
      ["broker-a", 4, 4],
      ["broker-b", 4, 4],
    ]);
  });

  it("looks a message up by offsetMsgId and by queue offset", async ({ admin, producer }) => {
    const topic = uniqueName("Lookup");
    await admin.createTopic(topic, { queueNums: 2 });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await producer.send({ topic, body: `look-${i}`, keys: `k${i}` }));
    for (const [i, r] of results.entries()) {
      const m = await admin.viewMessage(r.offsetMsgId);
      expect(bodyText(m)).toBe(`look-${i}`);
      expect(m.msgId).toBe(r.msgId);
      expect(m.queueOffset).toBe(r.queueOffset);
      const byOffset = await admin.viewMessageByOffset(r.messageQueue, r.queueOffset);
      expect(byOffset.msgId).toBe(r.msgId);
    }
    expect(await codeOf(admin.viewMessage("not-an-id"))).toBe("MESSAGE_ID_ILLEGAL");
    const last = results[5]!;
    expect(await codeOf(admin.viewMessageByOffset(last.messageQueue, 999))).toBe("MESSAGE_NOT_FOUND");
  });

  it("pulls the same queues the route lists", async ({ server, admin }) => {
    const topic = uniqueName("Subscribe");
    await admin.createTopic(topic, { readQueueNums: 2, writeQueueNums: 1, brokers: ["broker-a"] });
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const queues = await consumer.fetchSubscribeMessageQueues(topic);
    expect(queues).toEqual([
      { topic, brokerName: "broker-a", queueId: 0 },
      { topic, brokerName: "broker-a", queueId: 1 },
    ]);
  });
});

describe("draining a broker", () => {
  it("wipeWritePerm makes producers stop sending there while consumers finish reading it", async ({ server, admin, producer }) => {
    const topic = uniqueName("Drain");
    await admin.createTopic(topic, { queueNums: 2 });
    const before = [];
    for (let i = 0; i < 8; i++) before.push(await producer.send({ topic, body: `before-${i}` }));
    expect(new Set(before.map((r) => r.messageQueue.brokerName))).toEqual(new Set(["broker-a", "broker-b"]));
    const wiped = await admin.wipeWritePerm("broker-a");
    expect(wiped.topics).toContain(topic);
    const route = await admin.topicRoute(topic);
    expect(route.queueDatas.map((q) => [q.brokerName, q.perm])).toEqual([
      ["broker-a", 4],
      ["broker-b", 6],
    ]);
    // The producer's cached route still lists broker-a: the refusal (NO_PERMISSION) makes it
    // refresh and retry elsewhere, so every send succeeds, on broker-b.
    const after = [];
    for (let i = 0; i < 100; i++) after.push(await producer.send({ topic, body: `after-${i}` }));
    expect(new Set(after.map((r) => r.messageQueue.brokerName))).toEqual(new Set(["broker-b"]));
    // Consumers still read what broker-a holds.
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
    const onA = (await consumer.fetchSubscribeMessageQueues(topic)).filter((q) => q.brokerName === "broker-a");
    let drained = 0;
    for (const mq of onA) drained += (await consumer.pull(mq, "*", 0, 32, { maxWaitMs: 0 })).msgFoundList.length;
    expect(drained).toBe(before.filter((r) => r.messageQueue.brokerName === "broker-a").length);
    await admin.addWritePerm("broker-a");
    expect((await admin.topicRoute(topic)).queueDatas.map((q) => q.perm)).toEqual([6, 6]);
    expect(await codeOf(admin.wipeWritePerm("broker-z"))).toBe("BROKER_NOT_EXIST");
  });
});
