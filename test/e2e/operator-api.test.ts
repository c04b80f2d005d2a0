/**
 * The operator calls the dashboard uses beyond reading: deleting a consumer group, the list of
 * producer groups, and signing a browser session out, on an open server and on one with
 * accounts (who may call them).
 */
import { describe, expect } from "vitest";
import { Admin, TransactionProducer } from "../../client/index.js";
import { APP, ROOT } from "../auth-helpers.js";
import { collectingConsumer } from "../consumer-helpers.js";
import { serverFixture, test as e2e } from "../fixture.js";
import { codeOf, http, uniqueName } from "../helpers.js";

const test = e2e
  // The file's server (from the fixture) is open; a second one has accounts.
  .extend(
    "withAccounts",
    { scope: "file" },
    serverFixture({
      vars: {
        FLAREMQ_ACCOUNTS: JSON.stringify([
          { ...ROOT, admin: true },
          { ...APP, defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "PUB|SUB" },
        ]),
      },
      credentials: ROOT,
    }),
  )
  .extend("root", { scope: "file" }, ({ withAccounts }) => new Admin({ endpoint: withAccounts.url, credentials: ROOT }))
  .extend("app", { scope: "file" }, ({ withAccounts }) => new Admin({ endpoint: withAccounts.url, credentials: APP }));
const it = test;

describe("on an open server", () => {
  it("deletes a consumer group once its members are gone, with its retry and dead-letter topics", async ({ server, admin, producer }) => {
    const topic = uniqueName("DelGroup");
    const group = uniqueName("delgroup");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const { consumer } = await collectingConsumer(server, group, topic); // a live member
    const sent = await producer.send({ topic, body: "to the DLQ" });
    const back = await http(`${server.url}/groups/${group}/sendback`, {
      method: "POST",
      body: { messageQueue: sent.messageQueue, queueOffset: sent.queueOffset, delayLevel: -1 },
    });
    expect(back.body.destination).toBe("DLQ");
    const topicNames = async () => (await admin.listTopics()).map((t) => t.topic);
    expect(await topicNames()).toEqual(expect.arrayContaining([`%RETRY%${group}`, `%DLQ%${group}`]));
    expect((await admin.listGroups()).map((g) => g.group)).toContain(group);

    // A live member's next heartbeat would bring the group back: refused.
    expect(await codeOf(admin.deleteSubscriptionGroup(group))).toBe("GROUP_HAS_MEMBERS");
    await consumer.shutdown();

    expect(await admin.deleteSubscriptionGroup(group)).toEqual({ group, topicsDeleted: [`%RETRY%${group}`, `%DLQ%${group}`] });
    expect((await admin.listGroups()).map((g) => g.group)).not.toContain(group);
    const after = await topicNames();
    expect(after).not.toContain(`%RETRY%${group}`);
    expect(after).not.toContain(`%DLQ%${group}`);
    expect(after).toContain(topic);
    // Deleting again finds nothing left to delete.
    expect(await admin.deleteSubscriptionGroup(group)).toEqual({ group, topicsDeleted: [] });
    expect(await codeOf(admin.deleteSubscriptionGroup("bad group name"))).toBe("INVALID_GROUP_NAME");
  });

  it("lists a producer group once a producer of it polls for checks, and shows its status", async ({ server, admin }) => {
    const group = uniqueName("listedpg");
    expect((await admin.listProducerGroups()).map((g) => g.group)).not.toContain(group);
    const before = Date.now();
    const producer = new TransactionProducer({
      endpoint: server.url,
      credentials: server.credentials,
      group,
      checkPollWaitMs: 1000,
      transactionListener: { executeLocalTransaction: () => "COMMIT_MESSAGE", checkLocalTransaction: () => "COMMIT_MESSAGE" },
    });
    await producer.start();
    try {
      await expect.poll(async () => (await admin.listProducerGroups()).find((g) => g.group === group), { timeout: 10_000, interval: 100 }).toBeDefined();
      const listed = (await admin.listProducerGroups()).find((g) => g.group === group)!;
      expect(listed.lastSeenAt).toBeGreaterThanOrEqual(before);
      const status = await admin.producerGroupStatus(group);
      expect(status.group).toBe(group);
      expect(status.lastPollAt).toBeGreaterThanOrEqual(before);
      expect(status.pendingChecks).toBe(0);
      expect(status.webhookUrl).toBeNull();
    } finally {
      await producer.shutdown();
    }
  });

  it("lists a producer group that registers a check-back webhook", async ({ admin }) => {
    const group = uniqueName("hookpg");
    await admin.setProducerWebhook(group, "https://example.com/checks");
    expect((await admin.listProducerGroups()).map((g) => g.group)).toContain(group);
    expect((await admin.producerGroupStatus(group)).webhookUrl).toBe("https://example.com/checks");
  });
});

describe("with accounts", () => {
  it("lets only an admin delete a consumer group; any account lists producer groups", async ({ withAccounts: server, root, app }) => {
    const group = uniqueName("guarded");
    expect(await codeOf(app.deleteSubscriptionGroup(group))).toBe("ACCESS_DENIED");
    expect(await root.deleteSubscriptionGroup(group)).toEqual({ group, topicsDeleted: [] });
    await root.setProducerWebhook(group, "https://example.com/checks");
    expect((await app.listProducerGroups()).map((g) => g.group)).toContain(group);
    expect(await codeOf(new Admin({ endpoint: server.url, credentials: null }).listProducerGroups())).toBe("UNAUTHENTICATED");
  });

  it("signs a browser session out: the cookie is cleared, and only a request from the dashboard's origin may do it", async ({ withAccounts: server, app }) => {
    const { token } = await app.createSession();
    expect(await app.session()).toEqual({ accessKey: "app", expiresAt: null });
    const signOut = (headers: Record<string, string>) =>
      fetch(`${server.url}/auth/session`, { method: "DELETE", headers: { cookie: `mq_session=${token}`, ...headers } });

    // The session cookie alone is an ambient credential: a state change needs the page's origin.
    const unmarked = await signOut({});
    expect([unmarked.status, ((await unmarked.json()) as { code: string }).code]).toEqual([403, "CROSS_ORIGIN_REFUSED"]);
    expect(unmarked.headers.getSetCookie()).toEqual([]);

    const res = await signOut({ origin: server.url });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ signedOut: true });
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^mq_session=;/);
    expect(cookies[0]).toMatch(/;\s*Max-Age=0/i);
    expect(cookies[0]).toMatch(/;\s*Path=\//i);
    expect(await codeOf(new Admin({ endpoint: server.url, credentials: null }).deleteSession())).toBe("UNAUTHENTICATED");
  });
});
