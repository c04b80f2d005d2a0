/** Several NameServer instances: routes stay readable while any one instance answers. */
import { describe, expect, it } from "vitest";
import { Admin, Producer, PullConsumer, bodyText } from "../../client/index.js";
import { codeOf, startTestServer, uniqueName } from "../helpers.js";

describe("NameServer failover", () => {
  it("keeps producers and consumers working with either of two NameServer instances unreachable", async () => {
    const topic = uniqueName("Failover");
    const first = await startTestServer();
    const stateDir = first.stateDir;
    try {
      const admin = new Admin({ endpoint: first.url });
      expect((await admin.clusterInfo()).nameServers).toEqual(["ns-0", "ns-1"]);
      await admin.createTopic(topic, { queueNums: 1 }); // written to both instances
    } finally {
      await first.stop();
    }
    for (const down of ["ns-0", "ns-1"]) {
      const server = await startTestServer({ stateDir, vars: { TEST_UNREACHABLE_NAMESRV: down } });
      try {
        const producer = new Producer({ endpoint: server.url, group: uniqueName("pg") });
        await producer.start();
        const sent = await producer.send({ topic, body: `with ${down} down` });
        expect(sent.sendStatus).toBe("SEND_OK");
        const consumer = new PullConsumer({ endpoint: server.url, group: uniqueName("cg") });
        const r = await consumer.pull(sent.messageQueue, "*", sent.queueOffset, 1, { maxWaitMs: 0 });
        expect(r.msgFoundList.map(bodyText)).toEqual([`with ${down} down`]);
        const admin = new Admin({ endpoint: server.url });
        expect((await admin.listTopics()).map((t) => t.topic)).toContain(topic);
        // Writes need every instance (they never copy from each other): refused, retriable.
        expect(await codeOf(admin.createTopic(uniqueName("New"), { queueNums: 1 }))).toBe("SERVICE_UNAVAILABLE");
      } finally {
        await server.stop();
      }
    }
    const { rm } = await import("node:fs/promises");
    await rm(stateDir, { recursive: true, force: true });
  });
});
