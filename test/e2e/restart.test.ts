/** Stopping and starting the server on the same storage keeps every message and offset. */
import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { Admin, Producer, PullConsumer, bodyText } from "../../client/index.js";
import { startTestServer, uniqueName } from "../helpers.js";

describe("restart", () => {
  it("keeps messages, offsets and topics across a restart", async () => {
    const first = await startTestServer();
    const stateDir = first.stateDir;
    const topic = uniqueName("Durable");
    const group = uniqueName("cg");
    const sent: string[] = [];
    try {
      await new Admin({ endpoint: first.url, credentials: first.credentials }).createTopic(topic, { queueNums: 2 });
      const producer = new Producer({ endpoint: first.url, credentials: first.credentials, group: uniqueName("pg") });
      await producer.start();
      for (let i = 0; i < 40; i++) sent.push((await producer.send({ topic, body: `durable-${i}` })).msgId);
      const consumer = new PullConsumer({ endpoint: first.url, credentials: first.credentials, group });
      const queues = await consumer.fetchSubscribeMessageQueues(topic);
      for (const [k, mq] of queues.entries()) await consumer.updateConsumeOffset(mq, k + 1);
    } finally {
      await first.stop();
    }

    const second = await startTestServer({ stateDir });
    try {
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
    } finally {
      await second.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
