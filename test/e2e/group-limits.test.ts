/**
 * What one member or account of a consumer group cannot do to the others, through the real
 * server and client: name queues outside the route (CONFIG), make the group flip between
 * allocation strategies, or take every parked-pull place of a queue.
 */
import { describe, expect } from "vitest";
import { Producer, PullConsumer, PushConsumer, concurrently, type Admin, type PushConsumerOptions } from "../../client/index.js";
import type { Credentials } from "../../client/credentials.js";
import type { MessageQueue } from "../../protocol/message.js";
import { APP, ROOT } from "../auth-helpers.js";
import { test, it } from "../fixture.js";
import { codeOf, uniqueName, waitFor, type TestServer } from "../helpers.js";

const RO_1: Credentials = { accessKey: "ro-1", secretKey: "ro-1-secret-key-0001" };
const RO_2: Credentials = { accessKey: "ro-2", secretKey: "ro-2-secret-key-0001" };
const ACCOUNTS = [
  { ...ROOT, admin: true },
  { ...APP, defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "PUB|SUB" },
  // Read-only tenants: they may subscribe and pull, nothing else.
  { ...RO_1, defaultTopicPerm: "SUB", defaultGroupPerm: "SUB" },
  { ...RO_2, defaultTopicPerm: "SUB", defaultGroupPerm: "SUB" },
];

// The file's admin and clients sign as ROOT unless a test names another account.
test.override("serverOptions", { vars: { FLAREMQ_ACCOUNTS: JSON.stringify(ACCOUNTS) }, credentials: ROOT });

/** Fast heartbeats; the generation watch would otherwise answer a flip at once anyway. */
function pushConsumer(server: TestServer, group: string, extra: Partial<PushConsumerOptions> = {}): PushConsumer {
  const c = new PushConsumer({
    endpoint: server.url,
    credentials: APP,
    group,
    heartbeatIntervalMs: 200,
    sessionTimeoutMs: 5000,
    pollMaxWaitMs: 1000,
    ...extra,
  });
  c.registerMessageListener(concurrently(() => "CONSUME_SUCCESS"));
  return c;
}

/** Waits until the group has seen `n` more heartbeats of every member. */
async function heartbeatsPass(admin: Admin, group: string, n: number): Promise<void> {
  const seen = (await admin.groupInfo(group)).members.map((m) => m.lastHeartbeatAt);
  const enough = (now: number[]) => now.length === seen.length && now.every((t, i) => t >= (seen[i] ?? 0) + n * 200);
  await waitFor(`${n} heartbeats of ${group}`, async () => enough((await admin.groupInfo(group)).members.map((m) => m.lastHeartbeatAt)));
}

describe("consumer group config", () => {
  it("item 5: CONFIG allocation names only queues of the topic's route", async ({ server, admin }) => {
    const topic = uniqueName("Config");
    const group = uniqueName("cg");
    await admin.createTopic(topic, { queueNums: 2 });
    const named = (queues: MessageQueue[]) => {
      const c = pushConsumer(server, group, { allocateStrategy: "CONFIG", configuredQueues: queues });
      c.subscribe(topic, "*");
      return c;
    };
    const refused = async (queues: MessageQueue[]) => {
      const c = named(queues);
      try {
        return await codeOf(c.start());
      } finally {
        await c.shutdown();
      }
    };
    const made = Array.from({ length: 1024 }, (_, queueId) => ({ topic, brokerName: "broker-zz", queueId }));
    expect(await refused(made)).toBe("CONFIGURED_QUEUE_ILLEGAL");
    expect(await refused([{ topic, brokerName: "broker-a", queueId: 2 }])).toBe("CONFIGURED_QUEUE_ILLEGAL");
    expect((await admin.groupInfo(group)).members).toEqual([]);

    const c = named([{ topic, brokerName: "broker-b", queueId: 1 }]);
    await c.start();
    try {
      await waitFor("the configured queue", () => c.assignedQueues.some((q) => q.topic === topic));
      expect(c.assignedQueues.filter((q) => q.topic === topic)).toEqual([{ topic, brokerName: "broker-b", queueId: 1 }]);
    } finally {
      await c.shutdown();
    }
  });

  it("item 6: two PushConsumers with different strategies leave the group's generation stable", async ({ server, admin }) => {
    const topic = uniqueName("Strategy");
    const group = uniqueName("cg");
    await admin.createTopic(topic, { queueNums: 4 });
    const circle = pushConsumer(server, group, { allocateStrategy: "AVERAGELY_BY_CIRCLE" });
    const hash = pushConsumer(server, group, { allocateStrategy: "CONSISTENT_HASH" });
    const follower = pushConsumer(server, group);
    for (const c of [circle, hash, follower]) c.subscribe(topic, "*");
    await circle.start();
    try {
      // The second strategy is refused, however often it asks; a member naming none follows the group.
      expect(await codeOf(hash.start())).toBe("ALLOCATE_STRATEGY_CONFLICT");
      await follower.start();
      // Settled: every queue (8 of the topic, 2 of the retry topic) handed out, none still being handed over.
      const assigned = async () => (await admin.groupInfo(group)).members.reduce((n, m) => n + m.assignment.length, 0);
      await waitFor("the queues shared out", async () => (await assigned()) === 10);
      const settled = await admin.groupInfo(group);
      expect(settled.allocateStrategy).toBe("AVERAGELY_BY_CIRCLE");
      expect(settled.members.map((m) => m.clientId).sort()).toEqual([circle.clientId, follower.clientId].sort());
      expect(await codeOf(hash.start())).toBe("ALLOCATE_STRATEGY_CONFLICT");
      await heartbeatsPass(admin, group, 5);
      // Five heartbeats of each member later, nothing moved.
      expect((await admin.groupInfo(group)).generation).toBe(settled.generation);
    } finally {
      await Promise.all([circle.shutdown(), follower.shutdown(), hash.shutdown()]);
    }
  });
});

describe("parked pulls", () => {
  it("item 7: two read-only accounts filling a queue's parked pulls do not turn a consumer's long poll into a 429", async ({ server, admin }) => {
    const topic = uniqueName("Fair");
    await admin.createTopic(topic, { queueNums: 1 });
    const mq: MessageQueue = { topic, brokerName: "broker-a", queueId: 0 };
    const puller = (credentials: Credentials) => new PullConsumer({ endpoint: server.url, credentials, group: uniqueName("cg") });
    const poll = (c: PullConsumer) =>
      c.pull(mq, "*", 0, 1, { maxWaitMs: 30_000 }).then(
        (r) => r.pullStatus as string,
        (e: unknown) => codeOf(Promise.reject(e)),
      );
    // 500 parked pulls each (under the edge's 512 long polls per account): the queue's 1,000 places.
    const [ro1, ro2] = [puller(RO_1), puller(RO_2)];
    const flood = Array.from({ length: 1000 }, (_, i) => poll(i % 2 === 0 ? ro1 : ro2));
    // The stats answer carries the queue object's count of parked pulls beside QueueStats.
    // A busy server may answer slowly while the pulls arrive: a slow answer is asked again.
    const parked = async () => ((await admin.queueStats(mq, { timeoutMs: 20_000 }).catch(() => ({}))) as { parkedPulls?: number }).parkedPulls;
    await waitFor("1,000 parked pulls", async () => (await parked()) === 1000, 60_000);

    const consumer = poll(puller(APP));
    // The first to answer is one of theirs, ended to make room (not the consumer, refused).
    expect(await Promise.race([consumer, ...flood])).toBe("NO_NEW_MSG");
    expect(await poll(ro1)).toBe("TOO_MANY_WAITERS");
    // 1,000 answers go out with this append: its own answer may take longer than the default 3 s here.
    const producer = new Producer({ endpoint: server.url, credentials: APP, group: uniqueName("pg"), requestTimeoutMs: 30_000, sendMsgTimeoutMs: 30_000 });
    await producer.start();
    await producer.send({ topic, body: "wake" }, { messageQueue: mq });
    expect(await consumer).toBe("FOUND");
    // Exactly one of theirs ended early; none was refused. (The rest get the message, unless a
    // loaded machine answers them past their client timeout: that is no refusal either.)
    const ended = await Promise.all(flood);
    expect(ended.filter((s) => s === "NO_NEW_MSG").length).toBe(1);
    expect(ended.filter((s) => s !== "FOUND" && s !== "NO_NEW_MSG" && s !== "TIMEOUT")).toEqual([]);
  });
});
