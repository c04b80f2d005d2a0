/**
 * Stopping and starting the server on the same storage keeps every message and offset, and a
 * consumer running through the restart keeps its queues and position.
 */
import { describe, expect } from "vitest";
import { Admin, Producer, PullConsumer, PushConsumer, bodyText, concurrently } from "../../client/index.js";
import type { FetchLike } from "../../client/transport.js";
import { FAST, record, type Delivery } from "../consumer-helpers.js";
import { it } from "../fixture.js";
import { quietPeriod, uniqueName, waitFor } from "../helpers.js";

describe("restart", () => {
  it("keeps messages, offsets and topics across a restart", async ({ launchServer }) => {
    const first = await launchServer();
    const topic = uniqueName("Durable");
    const group = uniqueName("cg");
    const sent: string[] = [];
    {
      await new Admin({ endpoint: first.url, credentials: first.credentials }).createTopic(topic, { queueNums: 2 });
      const producer = new Producer({ endpoint: first.url, credentials: first.credentials, group: uniqueName("pg") });
      await producer.start();
      for (let i = 0; i < 40; i++) sent.push((await producer.send({ topic, body: `durable-${i}` })).msgId);
      const consumer = new PullConsumer({ endpoint: first.url, credentials: first.credentials, group });
      const queues = await consumer.fetchSubscribeMessageQueues(topic);
      for (const [k, mq] of queues.entries()) await consumer.updateConsumeOffset(mq, k + 1);
      await first.stop();
    }

    const second = await launchServer({ stateDir: first.stateDir });
    const consumer = new PullConsumer({ endpoint: second.url, credentials: second.credentials, group });
    const queues = await consumer.fetchSubscribeMessageQueues(topic);
    expect(queues.length).toBe(4);
    const received: string[] = [];
    for (const [k, mq] of queues.entries()) {
      expect(await consumer.fetchConsumeOffset(mq)).toBe(k + 1);
      const r = await consumer.pull(mq, "*", 0, 32, { maxWaitMs: 0 });
      expect(r.pullStatus).toBe("FOUND");
      expect(r.msgFoundList.length).toBe(10);
      expect(r.msgFoundList.map((m) => m.queueOffset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
      received.push(...r.msgFoundList.map((m) => m.msgId));
      for (const m of r.msgFoundList) expect(bodyText(m)).toMatch(/^durable-\d+$/);
    }
    expect(received.sort()).toEqual([...sent].sort());
    // Appends continue after the last offset.
    const producer = new Producer({ endpoint: second.url, credentials: second.credentials, group: uniqueName("pg") });
    await producer.start();
    const next = await producer.send({ topic, body: "after" }, { messageQueue: queues[0]! });
    expect(next.queueOffset).toBe(10);
  });
});

describe("restart under a running consumer", () => {
  it("crash item: a consumer that never left gets nothing again after a server restart", async ({ launchServer }) => {
    let server = await launchServer();
    const stateDir = server.stateDir;
    // The clients keep their endpoint; their calls reach whichever server runs now (a restarted
    // server listens on a new port). While none runs, calls fail as they would against a dead one.
    const endpoint = server.url;
    const fetchNow: FetchLike = (input, init) => fetch(input.replace(endpoint, server.url), init);
    const options = { endpoint, credentials: server.credentials, fetch: fetchNow };
    const topic = uniqueName("Survivor");
    const group = uniqueName("cg");
    const admin = new Admin(options);
    const deliveries: Delivery[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A session longer than the restart takes, so the member is still alive when the server is back.
    const consumer = new PushConsumer({ ...options, group, ...FAST, sessionTimeoutMs: 60_000 });
    consumer.registerMessageListener(
      concurrently(async (msgs): Promise<"CONSUME_SUCCESS"> => {
        for (const m of msgs) {
          record(deliveries, "survivor", m);
          // Held through the restart: still being processed, so not committed.
          if (bodyText(m).endsWith("-hold")) await gate;
        }
        return "CONSUME_SUCCESS";
      }),
    );
    consumer.subscribe(topic, "*");
    try {
      await admin.createTopic(topic, { queueNums: 2 });
      await consumer.start();
      await waitFor("all four queues", () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4);
      const queues = consumer.assignedQueues.filter((q) => q.topic === topic);
      const producer = new Producer({ ...options, group: uniqueName("pg") });
      await producer.start();
      const sendRound = async (round: string) => {
        for (const mq of queues) {
          for (let k = 0; k < 10; k++) {
            const body = `${round}-${mq.brokerName}-${mq.queueId}-${k}${round === "before" && k === 3 ? "-hold" : ""}`;
            await producer.send({ topic, body }, { messageQueue: mq });
          }
        }
      };
      await sendRound("before");
      await waitFor("40 deliveries", () => deliveries.length >= 40);
      // Offsets 0-2 of every queue are committed; 3 is held, 4-9 are done but not committable.
      await waitFor("offsets committed up to the held messages", async () =>
        (await admin.consumerProgress(group, topic)).queues.every((q) => q.consumerOffset === 3),
      );
      const generation = (await admin.groupInfo(group)).generation;

      await server.stop();
      server = await launchServer({ stateDir });
      await sendRound("after");
      await waitFor("80 deliveries", () => deliveries.length >= 80, 30_000);
      release();
      await waitFor("every offset committed", async () => (await admin.consumerProgress(group, topic)).queues.every((q) => q.consumerOffset === 20));
      await quietPeriod(1000); // a redelivery would show up now

      const seen = deliveries.map((d) => `${d.queue}#${d.queueOffset}`);
      expect(seen.length).toBe(80);
      expect(new Set(seen).size).toBe(80);
      // The restart did not count as the member joining again.
      expect((await admin.groupInfo(group)).generation).toBe(generation);
    } finally {
      release();
      await consumer.shutdown();
    }
  });
});
