/**
 * The consumer-group object inside workerd: heartbeat validation, assignment and hand-over,
 * leaving and expiry, broadcasting members, watches held by the Worker, info and offset resets,
 * CONFIG queues, the allocation strategy, member memory limits, and state across restarts.
 * Longer than ~350 lines because every describe drives the same object through the shared member
 * and queue helpers at the top; the pure pieces have their own files in consumer-group/.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { allocateAll, type AllocateStrategyName } from "../protocol/allocate.js";
import { retryTopic, type HeartbeatRequest, type MemberFence } from "../protocol/consumer.js";
import { Limits } from "../protocol/limits.js";
import type { MessageQueue } from "../protocol/message.js";
import type { QueueData } from "../protocol/route.js";
import type { ConsumerGroupDO } from "./consumer-group.js";
import { storedMember } from "./consumer-group/group-store.js";
import type { QueueDO } from "./queue.js";
import { notOwner, quietPeriod, registerTopic, rejection } from "./test-support.js";
import { holdWatch } from "../cluster/long-polls.js";

/** The NameServer instance the group object reads its routes from. */
function namesrv() {
  return env.NAMESRV.get(env.NAMESRV.idFromName("ns-0"));
}

function qd(brokerName: string, queueNums = 4): QueueData {
  return { brokerName, readQueueNums: queueNums, writeQueueNums: queueNums, perm: 6, topicSysFlag: 0 };
}

/** Creates a fresh topic (a unique name per call) with the given queue data. */
async function createTopic(...queues: QueueData[]): Promise<string> {
  const topic = `T-${crypto.randomUUID()}`;
  await registerTopic(topic, queues);
  return topic;
}

/** A fresh consumer group object per call: every test gets its own. */
function newGroup(): { name: string; cg: DurableObjectStub<ConsumerGroupDO> } {
  const name = `G-${crypto.randomUUID()}`;
  return { name, cg: env.CONSUMER_GROUP.get(env.CONSUMER_GROUP.idFromName(name)) };
}

function hb(clientId: string, topics: string[], extra: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
  return {
    clientId,
    messageModel: "CLUSTERING",
    subscriptions: topics.map((topic) => ({ topic, expressionType: "TAG", expression: "*" })),
    heartbeatIntervalMs: 1000,
    sessionTimeoutMs: 3000,
    ...extra,
  };
}

function mqs(topic: string, brokerName: string, ids: number[]): MessageQueue[] {
  return ids.map((queueId) => ({ topic, brokerName, queueId }));
}

/** Topic T on broker-a and broker-b, 4 queues each (the layout most tests use). */
function topicQueues(topic: string): MessageQueue[] {
  return [...mqs(topic, "broker-a", [0, 1, 2, 3]), ...mqs(topic, "broker-b", [0, 1, 2, 3])];
}

/** The retry topic created on the first clustering heartbeat: one queue per configured broker. */
function retryQueues(group: string): MessageQueue[] {
  return [...mqs(retryTopic(group), "broker-a", [0]), ...mqs(retryTopic(group), "broker-b", [0])];
}

/** What the group should hand out: allocateAll per topic, concatenated in sorted topic order. */
function expectedShares(strategy: AllocateStrategyName, queuesByTopic: Record<string, MessageQueue[]>, cids: string[]): Map<string, MessageQueue[]> {
  const result = new Map<string, MessageQueue[]>();
  for (const topic of Object.keys(queuesByTopic).sort()) {
    for (const [cid, share] of allocateAll(strategy, queuesByTopic[topic]!, cids)) {
      result.set(cid, [...(result.get(cid) ?? []), ...share]);
    }
  }
  return result;
}

function queueStub(mq: MessageQueue): DurableObjectStub<QueueDO> {
  return env.QUEUE.get(env.QUEUE.idFromName(`${mq.brokerName}/${mq.topic}/${mq.queueId}`));
}

/** A fenced pull's outcome: its pull status, or the error message it was refused with. */
async function fencedPull(mq: MessageQueue, group: string, fence: MemberFence): Promise<string> {
  try {
    const r = await queueStub(mq).pull({ offset: 0, maxNums: 1, group, fence });
    return r.pullStatus;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Pins the queue's owner exactly: the owner's fence at `generation` is let through, one
 * generation lower is refused, and any other member is refused.
 */
async function expectOwner(mq: MessageQueue, group: string, clientId: string, generation: number): Promise<void> {
  const where = `${mq.brokerName}/${mq.topic}/${mq.queueId}`;
  expect(await fencedPull(mq, group, { clientId, generation }), where).toBe("NO_NEW_MSG");
  expect(await fencedPull(mq, group, { clientId, generation: generation - 1 }), where).toBe(notOwner(group, generation));
  expect(await fencedPull(mq, group, { clientId: "intruder", generation: generation + 100 }), where).toBe(notOwner(group, generation));
}

/** A queue nobody of the group owns lets any fence through. */
async function expectOpen(mq: MessageQueue, group: string): Promise<void> {
  expect(await fencedPull(mq, group, { clientId: "intruder", generation: 0 }), `${mq.brokerName}/${mq.topic}/${mq.queueId}`).toBe("NO_NEW_MSG");
}

type Internals = {
  members: Map<string, { lastHeartbeatAt: number }>;
  watchers: { size: number };
  routesReadAt: number;
};

/** Moves a member's last heartbeat into the past, as if it had been silent that long. */
function silence(cg: DurableObjectStub<ConsumerGroupDO>, clientId: string, ms: number): Promise<void> {
  return runInDurableObject(cg, (instance) => {
    const member = (instance as unknown as Internals).members.get(clientId);
    if (!member) throw new Error(`no member ${clientId}`);
    member.lastHeartbeatAt -= ms;
  });
}

async function waitForWatchers(cg: DurableObjectStub<ConsumerGroupDO>, n: number): Promise<void> {
  await vi.waitUntil(() => runInDurableObject(cg, (instance) => (instance as unknown as Internals).watchers.size === n), { timeout: 5000, interval: 5 });
}

const SESSION_RANGE = "[SESSION_TIMEOUT_ILLEGAL] sessionTimeoutMs must be within 3000..300000";
const INTERVAL_TOO_LONG = "[SESSION_TIMEOUT_ILLEGAL] heartbeatIntervalMs must be shorter than sessionTimeoutMs";

describe("ConsumerGroupDO heartbeat validation", () => {
  it("refuses session timeouts outside 3000..300000 and intervals not shorter than the session", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"));
    for (const sessionTimeoutMs of [0, 2999, 300_001]) {
      const e = await rejection(cg.heartbeat(name, hb("cid-1", [topic], { sessionTimeoutMs, heartbeatIntervalMs: 1000 })));
      expect(e.message).toBe(SESSION_RANGE);
      expect(e.message.startsWith("[SESSION_TIMEOUT_ILLEGAL]")).toBe(true);
    }
    for (const heartbeatIntervalMs of [5000, 5001, 60_000]) {
      const e = await rejection(cg.heartbeat(name, hb("cid-1", [topic], { sessionTimeoutMs: 5000, heartbeatIntervalMs })));
      expect(e.message).toBe(INTERVAL_TOO_LONG);
    }
    // Nothing refused joined the group, no queue was handed out and no retry topic was made.
    const info = await cg.info(name);
    expect(info.members).toEqual([]);
    expect(info.generation).toBe(0);
    expect(await namesrv().getTopic(retryTopic(name))).toBeNull();
    await expectOpen({ topic, brokerName: "broker-a", queueId: 0 }, name);
  });

  it("accepts the bounds themselves", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 1));
    const low = await cg.heartbeat(name, hb("cid-low", [topic], { sessionTimeoutMs: 3000, heartbeatIntervalMs: 2999 }));
    expect(low.sessionTimeoutMs).toBe(3000);
    const high = await cg.heartbeat(name, hb("cid-high", [topic], { sessionTimeoutMs: 300_000, heartbeatIntervalMs: 299_999 }));
    expect(high.sessionTimeoutMs).toBe(300_000);
    expect(high.members).toBe(2);
  });
});

describe("ConsumerGroupDO assignment", () => {
  it("gives the first member every queue of its topic and its retry queues, and tells each queue", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    const retry = retryTopic(name);
    const r = await cg.heartbeat(name, hb("cid-1", [topic, retry]));
    // "%RETRY%…" sorts before "T-…": the retry queues come first.
    expect(r).toEqual({
      generation: 1,
      assignment: [...retryQueues(name), ...topicQueues(topic)],
      offsetResetSeq: 0,
      members: 1,
      sessionTimeoutMs: 3000,
    });
    expect(r.assignment).toEqual(expectedShares("AVERAGELY", { [topic]: topicQueues(topic), [retry]: retryQueues(name) }, ["cid-1"]).get("cid-1"));
    // The retry topic was created on the first heartbeat: one read/write queue on each broker.
    const retryConfig = await namesrv().getTopic(retry);
    expect(retryConfig?.queues).toEqual([qd("broker-a", 1), qd("broker-b", 1)]);
    for (const mq of r.assignment) await expectOwner(mq, name, "cid-1", 1);
  });

  it("splits the queues AVERAGELY as allocateAll computes when members join, moving owners", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    const retry = retryTopic(name);
    const byTopic = { [topic]: topicQueues(topic), [retry]: retryQueues(name) };
    expect((await cg.heartbeat(name, hb("cid-1", [topic, retry]))).generation).toBe(1);

    const r2 = await cg.heartbeat(name, hb("cid-2", [topic, retry]));
    const two = expectedShares("AVERAGELY", byTopic, ["cid-1", "cid-2"]);
    expect(r2).toEqual({ generation: 2, assignment: two.get("cid-2"), offsetResetSeq: 0, members: 2, sessionTimeoutMs: 3000 });
    // Spelled out: contiguous halves of the sorted queues.
    expect(two.get("cid-1")).toEqual([...mqs(retry, "broker-a", [0]), ...mqs(topic, "broker-a", [0, 1, 2, 3])]);
    expect(two.get("cid-2")).toEqual([...mqs(retry, "broker-b", [0]), ...mqs(topic, "broker-b", [0, 1, 2, 3])]);
    // The first member hears of its smaller share on its next (unchanged) heartbeat.
    const r1 = await cg.heartbeat(name, hb("cid-1", [topic, retry]));
    expect(r1).toEqual({ generation: 2, assignment: two.get("cid-1"), offsetResetSeq: 0, members: 2, sessionTimeoutMs: 3000 });

    // Moved queues now belong to cid-2 (generation 2); the old owner's fence is refused there.
    const moved = { topic, brokerName: "broker-b", queueId: 0 };
    expect(await fencedPull(moved, name, { clientId: "cid-1", generation: 1 })).toBe(notOwner(name, 2));
    expect(await fencedPull(moved, name, { clientId: "cid-1", generation: 2 })).toBe(notOwner(name, 2));
    expect(await fencedPull(moved, name, { clientId: "cid-2", generation: 2 })).toBe("NO_NEW_MSG");
    for (const mq of two.get("cid-2")!) await expectOwner(mq, name, "cid-2", 2);
    // Queues cid-1 kept were not touched: still owned since generation 1.
    for (const mq of two.get("cid-1")!) await expectOwner(mq, name, "cid-1", 1);

    // A third member: 8 queues over 3 → 3, 3, 2; the 2 retry queues → 1, 1, 0.
    const r3 = await cg.heartbeat(name, hb("cid-3", [topic, retry]));
    const three = expectedShares("AVERAGELY", byTopic, ["cid-1", "cid-2", "cid-3"]);
    expect(r3.generation).toBe(3);
    expect(r3.assignment).toEqual(three.get("cid-3"));
    expect(three.get("cid-1")).toEqual([...mqs(retry, "broker-a", [0]), ...mqs(topic, "broker-a", [0, 1, 2])]);
    expect(three.get("cid-2")).toEqual([...mqs(retry, "broker-b", [0]), ...mqs(topic, "broker-a", [3]), ...mqs(topic, "broker-b", [0, 1])]);
    expect(three.get("cid-3")).toEqual(mqs(topic, "broker-b", [2, 3]));
    const info = await cg.info(name);
    expect(info.members.map((m) => [m.clientId, m.assignment])).toEqual([
      ["cid-1", three.get("cid-1")],
      ["cid-2", three.get("cid-2")],
      ["cid-3", three.get("cid-3")],
    ]);
    await expectOwner({ topic, brokerName: "broker-a", queueId: 3 }, name, "cid-2", 3);
    await expectOwner({ topic, brokerName: "broker-b", queueId: 0 }, name, "cid-2", 2);
    await expectOwner({ topic, brokerName: "broker-b", queueId: 2 }, name, "cid-3", 3);
    await expectOwner({ topic, brokerName: "broker-a", queueId: 0 }, name, "cid-1", 1);
  });

  it("does not bump the generation for an unchanged heartbeat, but does for a changed subscription", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    const retry = retryTopic(name);
    const first = await cg.heartbeat(name, hb("cid-1", [topic, retry]));
    for (let i = 0; i < 3; i++) expect(await cg.heartbeat(name, hb("cid-1", [topic, retry]))).toEqual(first);
    expect((await cg.info(name)).generation).toBe(1);

    // Dropping the retry subscription: new generation, the retry queues become ownerless.
    const narrowed = await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(narrowed.generation).toBe(2);
    expect(narrowed.assignment).toEqual(topicQueues(topic));
    for (const mq of retryQueues(name)) await expectOpen(mq, name);
    await expectOwner({ topic, brokerName: "broker-b", queueId: 3 }, name, "cid-1", 1);

    // A new expression is a change too, even though the queues stay where they are.
    const retagged = await cg.heartbeat(name, {
      ...hb("cid-1", []),
      subscriptions: [{ topic, expressionType: "TAG", expression: "TagA" }],
    });
    expect(retagged.generation).toBe(3);
    expect(retagged.assignment).toEqual(topicQueues(topic));
  });

  it("gives two members joining at once the split both would compute", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    const retry = retryTopic(name);
    await Promise.all([cg.heartbeat(name, hb("cid-1", [topic, retry])), cg.heartbeat(name, hb("cid-2", [topic, retry]))]);
    const two = expectedShares("AVERAGELY", { [topic]: topicQueues(topic), [retry]: retryQueues(name) }, ["cid-1", "cid-2"]);
    const info = await cg.info(name);
    expect(info.members.map((m) => m.clientId).sort()).toEqual(["cid-1", "cid-2"]);
    for (const m of info.members) expect(m.assignment).toEqual(two.get(m.clientId));
    // Every queue's owner agrees with the assignment the members are told.
    const r1 = await cg.heartbeat(name, hb("cid-1", [topic, retry]));
    const r2 = await cg.heartbeat(name, hb("cid-2", [topic, retry]));
    expect(r1.generation).toBe(info.generation);
    expect(r2.generation).toBe(info.generation);
    for (const [cid, share] of two) {
      for (const mq of share) expect(await fencedPull(mq, name, { clientId: cid, generation: info.generation })).toBe("NO_NEW_MSG");
      const other = cid === "cid-1" ? "cid-2" : "cid-1";
      for (const mq of share) {
        expect(await fencedPull(mq, name, { clientId: other, generation: info.generation })).toMatch(/^\[NOT_QUEUE_OWNER\] /);
      }
    }
  });

  it("picks up queues added to a topic once the routes are re-read", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    expect((await cg.heartbeat(name, hb("cid-1", [topic]))).assignment).toEqual(mqs(topic, "broker-a", [0, 1]));
    await registerTopic(topic, [qd("broker-a", 3)]);
    // Within the refresh interval the routes are not re-read.
    const same = await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(same.generation).toBe(1);
    expect(same.assignment).toEqual(mqs(topic, "broker-a", [0, 1]));
    await runInDurableObject(cg, (instance) => {
      (instance as unknown as Internals).routesReadAt = 0;
    });
    const grown = await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(grown.generation).toBe(2);
    expect(grown.assignment).toEqual(mqs(topic, "broker-a", [0, 1, 2]));
    await expectOwner({ topic, brokerName: "broker-a", queueId: 2 }, name, "cid-1", 2);
    await expectOwner({ topic, brokerName: "broker-a", queueId: 0 }, name, "cid-1", 1);
  });
});

describe("ConsumerGroupDO leaving and expiry", () => {
  async function twoMembers() {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    await cg.heartbeat(name, hb("cid-1", [topic]));
    const r2 = await cg.heartbeat(name, hb("cid-2", [topic]));
    expect(r2.generation).toBe(2);
    expect(r2.assignment).toEqual(mqs(topic, "broker-b", [0, 1, 2, 3]));
    return { name, cg, topic };
  }

  it("leave() hands the leaver's queues to the others at once", async () => {
    const { name, cg, topic } = await twoMembers();
    expect(await cg.leave(name, "cid-2")).toBe(true);
    const info = await cg.info(name);
    expect(info.generation).toBe(3);
    expect(info.members.map((m) => [m.clientId, m.assignment])).toEqual([["cid-1", topicQueues(topic)]]);
    for (const mq of mqs(topic, "broker-b", [0, 1, 2, 3])) await expectOwner(mq, name, "cid-1", 3);
    expect(await fencedPull({ topic, brokerName: "broker-b", queueId: 0 }, name, { clientId: "cid-2", generation: 2 })).toBe(notOwner(name, 3));
    // Leaving twice, or as a stranger, changes nothing.
    expect(await cg.leave(name, "cid-2")).toBe(false);
    expect(await cg.leave(name, "nobody")).toBe(false);
    expect((await cg.info(name)).generation).toBe(3);
    // When the last member leaves, its queues are opened.
    expect(await cg.leave(name, "cid-1")).toBe(true);
    const empty = await cg.info(name);
    expect(empty.generation).toBe(4);
    expect(empty.members).toEqual([]);
    for (const mq of topicQueues(topic)) await expectOpen(mq, name);
  });

  it("the alarm drops a member silent for its session timeout and reassigns its queues", async () => {
    const { name, cg, topic } = await twoMembers();
    // Nobody is late yet: the alarm changes nothing.
    expect(await runDurableObjectAlarm(cg)).toBe(true);
    expect((await cg.info(name)).generation).toBe(2);
    expect((await cg.info(name)).members.map((m) => m.clientId)).toEqual(["cid-1", "cid-2"]);

    await silence(cg, "cid-2", 3001);
    expect(await runDurableObjectAlarm(cg)).toBe(true);
    const info = await cg.info(name);
    expect(info.generation).toBe(3);
    expect(info.members.map((m) => [m.clientId, m.assignment])).toEqual([["cid-1", topicQueues(topic)]]);
    for (const mq of mqs(topic, "broker-b", [0, 1, 2, 3])) await expectOwner(mq, name, "cid-1", 3);
    // The survivor learns of its queues on its next heartbeat; the alarm is armed for it.
    const r1 = await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(r1).toEqual({ generation: 3, assignment: topicQueues(topic), offsetResetSeq: 0, members: 1, sessionTimeoutMs: 3000 });
    expect(await runInDurableObject(cg, (_i, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("keeps a member still within its session timeout and drops it once past", async () => {
    const { name, cg } = await twoMembers();
    // 2000 ms of silence is within the 3000 ms session; 3001 ms is past it.
    await silence(cg, "cid-2", 2000);
    expect(await runDurableObjectAlarm(cg)).toBe(true);
    expect((await cg.info(name)).members.map((m) => m.clientId)).toEqual(["cid-1", "cid-2"]);
    await silence(cg, "cid-2", 1001);
    expect(await runDurableObjectAlarm(cg)).toBe(true);
    expect((await cg.info(name)).members.map((m) => m.clientId)).toEqual(["cid-1"]);
  });

  it("another member's heartbeat also drops an expired member", async () => {
    const { name, cg, topic } = await twoMembers();
    await silence(cg, "cid-2", 10_000);
    const r1 = await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(r1).toEqual({ generation: 3, assignment: topicQueues(topic), offsetResetSeq: 0, members: 1, sessionTimeoutMs: 3000 });
    await expectOwner({ topic, brokerName: "broker-b", queueId: 1 }, name, "cid-1", 3);
    // The dropped member comes back as a new member and gets its half again.
    const back = await cg.heartbeat(name, hb("cid-2", [topic]));
    expect(back.generation).toBe(4);
    expect(back.assignment).toEqual(mqs(topic, "broker-b", [0, 1, 2, 3]));
    await expectOwner({ topic, brokerName: "broker-b", queueId: 1 }, name, "cid-2", 4);
  });
});

describe("ConsumerGroupDO broadcasting members", () => {
  it("get an empty assignment and take no queues from clustering members", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    const retry = retryTopic(name);
    const c1 = await cg.heartbeat(name, hb("cid-1", [topic, retry]));
    expect(c1.generation).toBe(1);
    const b1 = await cg.heartbeat(name, hb("bc-1", [topic], { messageModel: "BROADCASTING" }));
    expect(b1).toEqual({ generation: 2, assignment: [], offsetResetSeq: 0, members: 2, sessionTimeoutMs: 3000 });
    const info = await cg.info(name);
    expect(info.members.map((m) => [m.clientId, m.messageModel, m.assignment])).toEqual([
      ["cid-1", "CLUSTERING", [...retryQueues(name), ...topicQueues(topic)]],
      ["bc-1", "BROADCASTING", []],
    ]);
    // No queue moved: cid-1 still owns everything since generation 1.
    for (const mq of topicQueues(topic)) await expectOwner(mq, name, "cid-1", 1);
    expect((await cg.heartbeat(name, hb("cid-1", [topic, retry]))).assignment).toEqual([...retryQueues(name), ...topicQueues(topic)]);
  });

  it("a broadcasting-only group owns no queue and gets no retry topic", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    const b1 = await cg.heartbeat(name, hb("bc-1", [topic], { messageModel: "BROADCASTING" }));
    expect(b1.assignment).toEqual([]);
    expect(await cg.heartbeat(name, hb("bc-2", [topic], { messageModel: "BROADCASTING" }))).toMatchObject({ assignment: [], members: 2 });
    expect(await namesrv().getTopic(retryTopic(name))).toBeNull();
    for (const mq of mqs(topic, "broker-a", [0, 1])) await expectOpen(mq, name);
  });
});

describe("ConsumerGroupDO watch", () => {
  it("answers at once when the generation is already past the known one", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 1));
    await cg.heartbeat(name, hb("cid-1", [topic]));
    const started = Date.now();
    expect(await holdWatch(cg, 0, { maxWaitMs: 10_000, account: "" })).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("parks until a rebalance moves the generation", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    await cg.heartbeat(name, hb("cid-1", [topic]));
    const started = Date.now();
    let answered: number | undefined;
    const watching = holdWatch(cg, 1, { maxWaitMs: 10_000, account: "" }).then((g) => (answered = g));
    await waitForWatchers(cg, 1);
    // An unchanged heartbeat does not wake it: a wrong answer would arrive within these 20 ms.
    await cg.heartbeat(name, hb("cid-1", [topic]));
    await quietPeriod(20);
    expect(answered).toBeUndefined();
    await cg.heartbeat(name, hb("cid-2", [topic]));
    expect(await watching).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
    await waitForWatchers(cg, 0);
  });

  it("times out with the same generation", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 1));
    await cg.heartbeat(name, hb("cid-1", [topic]));
    const started = Date.now();
    expect(await holdWatch(cg, 1, { maxWaitMs: 250, account: "" })).toBe(1);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
    await waitForWatchers(cg, 0);
    // A group nobody joined answers 0 after the wait.
    const { cg: empty } = newGroup();
    expect(await holdWatch(empty, 0, { maxWaitMs: 50, account: "" })).toBe(0);
  });
});

describe("ConsumerGroupDO info and offset resets", () => {
  it("info() lists the members with their assignments", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    const before = Date.now();
    await cg.heartbeat(name, hb("cid-1", [topic], { zone: "zone-1", sessionTimeoutMs: 60_000, heartbeatIntervalMs: 5000 }));
    await cg.heartbeat(name, hb("cid-2", [topic]));
    const after = Date.now();
    const info = await cg.info(name);
    expect(info).toEqual({
      group: name,
      generation: 2,
      allocateStrategy: "AVERAGELY",
      offsetResetSeq: 0,
      consumeMode: "OFFSETS",
      members: [
        {
          clientId: "cid-1",
          messageModel: "CLUSTERING",
          subscriptions: [{ topic, expressionType: "TAG", expression: "*" }],
          zone: "zone-1",
          lastHeartbeatAt: expect.any(Number),
          sessionTimeoutMs: 60_000,
          assignment: mqs(topic, "broker-a", [0, 1, 2, 3]),
        },
        {
          clientId: "cid-2",
          messageModel: "CLUSTERING",
          subscriptions: [{ topic, expressionType: "TAG", expression: "*" }],
          zone: null,
          lastHeartbeatAt: expect.any(Number),
          sessionTimeoutMs: 3000,
          assignment: mqs(topic, "broker-b", [0, 1, 2, 3]),
        },
      ],
    });
    for (const m of info.members) {
      expect(m.lastHeartbeatAt).toBeGreaterThanOrEqual(before);
      expect(m.lastHeartbeatAt).toBeLessThanOrEqual(after);
    }
    expect(await cg.subscribedTopics()).toEqual([topic]);
  });

  it("a member naming another strategy switches the group and rebalances", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    await cg.heartbeat(name, hb("cid-1", [topic]));
    await cg.heartbeat(name, hb("cid-2", [topic]));
    const r = await cg.heartbeat(name, hb("cid-2", [topic], { allocateStrategy: "AVERAGELY_BY_CIRCLE" }));
    const circle = expectedShares("AVERAGELY_BY_CIRCLE", { [topic]: topicQueues(topic) }, ["cid-1", "cid-2"]);
    expect(r.generation).toBe(3);
    expect(r.assignment).toEqual(circle.get("cid-2"));
    expect(r.assignment).toEqual([...mqs(topic, "broker-a", [1, 3]), ...mqs(topic, "broker-b", [1, 3])]);
    const info = await cg.info(name);
    expect(info.allocateStrategy).toBe("AVERAGELY_BY_CIRCLE");
    expect(info.members[0]!.assignment).toEqual(circle.get("cid-1"));
    await expectOwner({ topic, brokerName: "broker-a", queueId: 1 }, name, "cid-2", 3);
    await expectOwner({ topic, brokerName: "broker-b", queueId: 0 }, name, "cid-1", 3);
  });

  it("bumpOffsetResetSeq counts up, reaches members, and survives eviction with the generation", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    expect((await cg.heartbeat(name, hb("cid-1", [topic]))).offsetResetSeq).toBe(0);
    expect(await cg.bumpOffsetResetSeq()).toBe(1);
    expect(await cg.bumpOffsetResetSeq()).toBe(2);
    const r = await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(r).toMatchObject({ generation: 1, offsetResetSeq: 2 });
    await cg.heartbeat(name, hb("cid-2", [topic]));
    expect((await cg.info(name)).generation).toBe(2);

    await evictDurableObject(cg);
    const restored = await cg.info(name);
    expect(restored.generation).toBe(2);
    expect(restored.offsetResetSeq).toBe(2);
    // Members are stored too: they come back with their queues, and nothing moves.
    expect(restored.members.map((m) => [m.clientId, m.assignment])).toEqual([
      ["cid-1", mqs(topic, "broker-a", [0])],
      ["cid-2", mqs(topic, "broker-a", [1])],
    ]);
    expect(await cg.bumpOffsetResetSeq()).toBe(3);
    expect(await cg.heartbeat(name, hb("cid-1", [topic]))).toEqual({
      generation: 2,
      assignment: mqs(topic, "broker-a", [0]),
      offsetResetSeq: 3,
      members: 2,
      sessionTimeoutMs: 3000,
    });
    // A leave is stored as well.
    expect(await cg.leave(name, "cid-2")).toBe(true);
    await evictDurableObject(cg);
    expect(await cg.info(name)).toMatchObject({ generation: 3, offsetResetSeq: 3, members: [{ clientId: "cid-1" }] });
  });
});

describe("ConsumerGroupDO configured queues (CONFIG)", () => {
  /** Whether the queue object named for `mq` holds an owner row for `group` (the group told it about an owner). */
  async function toldOwner(mq: MessageQueue, group: string): Promise<boolean> {
    return runInDurableObject(queueStub(mq), (_i, state) => state.storage.sql.exec("SELECT grp FROM queue_owner WHERE grp = ?", group).toArray().length > 0);
  }

  it("item 5: CONFIG allocation names only queues of the topic's route", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    const other = await createTopic(qd("broker-a", 2));
    const config = (configuredQueues: MessageQueue[], topics = [topic]) => hb("cid-1", topics, { allocateStrategy: "CONFIG", configuredQueues });
    const illegal = (why: string) => `[CONFIGURED_QUEUE_ILLEGAL] ${why}`;

    // A broker outside the route, a queue id past the route's, a topic not subscribed: refused.
    const foreignBroker = { topic, brokerName: "broker-zz", queueId: 0 };
    const pastTheRoute = { topic, brokerName: "broker-a", queueId: 2 };
    const unsubscribed = { topic: other, brokerName: "broker-a", queueId: 0 };
    const cases: [MessageQueue, string][] = [
      [foreignBroker, `configured queue ${topic}/broker-zz/0 is not a readable queue of the route of topic "${topic}"`],
      [pastTheRoute, `configured queue ${topic}/broker-a/2 is not a readable queue of the route of topic "${topic}"`],
      [unsubscribed, `configured queue ${other}/broker-a/0: the member does not subscribe to topic "${other}"`],
    ];
    for (const [mq, why] of cases) {
      const refused = await rejection(cg.heartbeat(name, config([...mqs(topic, "broker-a", [0]), mq])));
      expect(refused.message).toBe(illegal(why));
      // Refused before anything changed: no member, and no queue object heard of the group.
      expect(await cg.info(name)).toMatchObject({ generation: 0, members: [] });
      expect(await toldOwner(mq, name)).toBe(false);
    }
    // 1,024 made-up queues in one heartbeat create nothing either.
    const flood = Array.from({ length: 1024 }, (_, queueId) => ({ topic, brokerName: "broker-zz", queueId }));
    expect((await rejection(cg.heartbeat(name, config(flood)))).message).toBe(illegal(cases[0]![1]));
    expect(await toldOwner({ topic, brokerName: "broker-zz", queueId: 1023 }, name)).toBe(false);

    // Queues of the route are taken, as named; a change to a foreign queue later is refused too.
    const ok = await cg.heartbeat(name, config(mqs(topic, "broker-a", [1, 0])));
    expect(ok).toMatchObject({ generation: 1, assignment: mqs(topic, "broker-a", [1, 0]) });
    await expectOwner({ topic, brokerName: "broker-a", queueId: 1 }, name, "cid-1", 1);
    expect((await rejection(cg.heartbeat(name, config([foreignBroker])))).message).toBe(illegal(cases[0]![1]));
    expect((await cg.info(name)).members[0]!.assignment).toEqual(mqs(topic, "broker-a", [1, 0]));
  });

  it("item 5: a queue two members configure goes to one of them, so neither is fenced in a loop", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 3));
    const config = (cid: string, ids: number[]) => hb(cid, [topic], { allocateStrategy: "CONFIG", configuredQueues: mqs(topic, "broker-a", ids) });
    await cg.heartbeat(name, config("cid-1", [0, 1, 1]));
    const second = await cg.heartbeat(name, config("cid-2", [1, 2]));
    expect(second.assignment).toEqual(mqs(topic, "broker-a", [2]));
    expect((await cg.info(name)).members.map((m) => [m.clientId, m.assignment])).toEqual([
      ["cid-1", mqs(topic, "broker-a", [0, 1])],
      ["cid-2", mqs(topic, "broker-a", [2])],
    ]);
    await expectOwner({ topic, brokerName: "broker-a", queueId: 1 }, name, "cid-1", 1);
    await expectOwner({ topic, brokerName: "broker-a", queueId: 2 }, name, "cid-2", 2);
  });
});

describe("ConsumerGroupDO allocation strategy", () => {
  it("item 6: a member naming another strategy than the group's other members is refused and changes nothing", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    await cg.heartbeat(name, hb("cid-1", [topic], { allocateStrategy: "AVERAGELY_BY_CIRCLE" }));
    const conflict =
      `[ALLOCATE_STRATEGY_CONFLICT] group "${name}" allocates queues with AVERAGELY_BY_CIRCLE, the strategy its other ` +
      "members name; this member names CONSISTENT_HASH: every member of a group must use the same allocation strategy";
    // Heartbeat after heartbeat, the other strategy is refused and the group does not move.
    for (let i = 0; i < 3; i++) {
      expect((await rejection(cg.heartbeat(name, hb("cid-2", [topic], { allocateStrategy: "CONSISTENT_HASH" })))).message).toBe(conflict);
      expect(await cg.heartbeat(name, hb("cid-1", [topic], { allocateStrategy: "AVERAGELY_BY_CIRCLE" }))).toMatchObject({ generation: 1, members: 1 });
    }
    expect(await cg.info(name)).toMatchObject({ generation: 1, allocateStrategy: "AVERAGELY_BY_CIRCLE" });

    // A member naming no strategy takes the group's.
    const follower = await cg.heartbeat(name, hb("cid-3", [topic]));
    expect(follower.generation).toBe(2);
    const circle = expectedShares("AVERAGELY_BY_CIRCLE", { [topic]: topicQueues(topic) }, ["cid-1", "cid-3"]);
    expect(follower.assignment).toEqual(circle.get("cid-3"));
    // A member already in the group that asks for a new strategy while others name one is refused too.
    await cg.heartbeat(name, hb("cid-4", [topic], { allocateStrategy: "AVERAGELY_BY_CIRCLE" }));
    expect((await rejection(cg.heartbeat(name, hb("cid-4", [topic], { allocateStrategy: "AVERAGELY" })))).message).toContain("[ALLOCATE_STRATEGY_CONFLICT]");

    // Once no other member names a strategy, a new one may: the group follows its members.
    await cg.leave(name, "cid-1");
    await cg.leave(name, "cid-4");
    const hashed = await cg.heartbeat(name, hb("cid-2", [topic], { allocateStrategy: "CONSISTENT_HASH" }));
    const hash = expectedShares("CONSISTENT_HASH", { [topic]: topicQueues(topic) }, ["cid-2", "cid-3"]);
    expect(hashed.assignment).toEqual(hash.get("cid-2"));
    expect(await cg.info(name)).toMatchObject({ allocateStrategy: "CONSISTENT_HASH" });
    // Broadcasting members read every queue: their strategy is no conflict.
    expect(await cg.heartbeat(name, hb("bc-1", [topic], { messageModel: "BROADCASTING", allocateStrategy: "AVERAGELY" }))).toMatchObject({
      assignment: [],
    });
    expect(await cg.info(name)).toMatchObject({ allocateStrategy: "CONSISTENT_HASH" });
  });
});

describe("ConsumerGroupDO member memory", () => {
  /** The held queues the object keeps of a member, as queue keys. */
  function keptHeld(cg: DurableObjectStub<ConsumerGroupDO>, clientId: string): Promise<string[] | undefined> {
    return runInDurableObject(cg, (instance) => {
      const members = (instance as unknown as { members: Map<string, HeartbeatRequest> }).members;
      return members.get(clientId)?.heldQueues?.map((q) => `${q.brokerName}/${q.topic}/${q.queueId}`);
    });
  }

  it("item 10: a group keeps only the held queues it needs, so heartbeats cannot grow its memory without bound", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    const [q0, q1] = mqs(topic, "broker-a", [0, 1]) as [MessageQueue, MessageQueue];
    expect(await cg.heartbeat(name, hb("cid-1", [topic]))).toMatchObject({ generation: 1, assignment: [q0, q1] });
    // The most a heartbeat may name: the member's own queues twice over, and queues it was never given.
    const foreign = Array.from({ length: Limits.maxHeldQueues - 4 }, (_, i) => ({
      topic: `X-${i % 97}`,
      brokerName: "broker-b",
      queueId: i % Limits.maxQueueNums,
    }));
    await cg.heartbeat(name, hb("cid-1", [topic], { generation: 1, heldQueues: [q1, ...foreign, q0, q1, q0] }));
    expect(await keptHeld(cg, "cid-1")).toEqual([`broker-a/${topic}/1`, `broker-a/${topic}/0`]);

    // Hand-over still sees what it needs: q1 moves to cid-2 but stays with cid-1 while it reads it...
    expect(await cg.heartbeat(name, hb("cid-2", [topic]))).toMatchObject({ generation: 2, assignment: [] });
    await cg.heartbeat(name, hb("cid-1", [topic], { generation: 2, heldQueues: [...foreign, q0, q1] }));
    expect(await keptHeld(cg, "cid-1")).toEqual([`broker-a/${topic}/0`, `broker-a/${topic}/1`]);
    await expectOwner(q1, name, "cid-1", 1);
    // ...and goes to cid-2 once cid-1 no longer names it.
    await cg.heartbeat(name, hb("cid-1", [topic], { generation: 2, heldQueues: [...foreign, q0] }));
    expect(await keptHeld(cg, "cid-1")).toEqual([`broker-a/${topic}/0`]);
    await expectOwner(q1, name, "cid-2", 3);
    expect(await cg.heartbeat(name, hb("cid-2", [topic], { generation: 3, heldQueues: foreign }))).toMatchObject({
      generation: 3,
      assignment: [q1],
    });
    expect(await keptHeld(cg, "cid-2")).toEqual([]);
  });

  it("item 10: a heartbeat that would make the group's members describe more than maxGroupBytes is refused and changes nothing", async () => {
    const { name, cg } = newGroup();
    // Members near the largest description allowed: 64 subscriptions with long expressions.
    const member = (i: number, expressionLength: number): HeartbeatRequest => ({
      ...hb(`cid-${String(i).padStart(3, "0")}`, []),
      messageModel: "BROADCASTING",
      subscriptions: Array.from({ length: Limits.maxSubscriptions }, (_, t) => ({
        topic: `T-${t}`,
        expressionType: "TAG" as const,
        expression: "x".repeat(expressionLength),
      })),
    });
    const size = (req: HeartbeatRequest) => JSON.stringify(storedMember(req)).length;
    // 32 members whose expressions fill the limit to less than 32 characters a subscription.
    const n = 32;
    let length = Limits.maxExpressionLength;
    while (n * size(member(0, length)) > Limits.maxGroupBytes) length--;
    expect(length + 32).toBeLessThanOrEqual(Limits.maxExpressionLength);
    const room = Limits.maxGroupBytes - n * size(member(0, length));
    expect(room).toBeLessThan(size(member(n, 10)));
    for (let i = 0; i < n; i++) await cg.heartbeat(name, member(i, length));
    const full = await cg.info(name);
    expect(full.members).toHaveLength(n);

    // A newcomer, even a small one, is refused and changes nothing.
    const refused = await rejection(cg.heartbeat(name, member(n, 10)));
    expect(refused.message).toMatch(/^\[GROUP_TOO_LARGE\] group ".*" would hold \d+ bytes of member descriptions/);
    expect(await cg.info(name)).toEqual(full);
    // A member already in may not grow past the limit either, and keeps what it said before...
    expect((await rejection(cg.heartbeat(name, member(1, length + 32)))).message).toMatch(/^\[GROUP_TOO_LARGE\]/);
    expect(await cg.info(name)).toEqual(full);
    // ...but heartbeats on as it was: its own description is not counted twice.
    expect(await cg.heartbeat(name, member(1, length))).toMatchObject({ generation: full.generation, members: n });
    // Room a member leaves lets another in.
    await cg.leave(name, "cid-001");
    await cg.heartbeat(name, member(n, length));
    expect((await cg.info(name)).members).toHaveLength(n);
  });
});

describe("ConsumerGroupDO topics for progress", () => {
  it("keeps listing the topics its members subscribed to after they left, across a restart, until the group is deleted", async () => {
    const { name, cg } = newGroup();
    const [a, b] = [await createTopic(qd("broker-a")), await createTopic(qd("broker-a"))];
    await cg.heartbeat(name, hb("cid-1", [a]));
    await cg.heartbeat(name, hb("cid-2", [b]));
    await cg.leave(name, "cid-1");
    await cg.leave(name, "cid-2");
    await evictDurableObject(cg);
    expect((await cg.info(name)).members).toEqual([]);
    expect(await cg.subscribedTopics()).toEqual([a, b].sort());
    await cg.forgetTopics();
    expect(await cg.subscribedTopics()).toEqual([]);
  });
});

describe("ConsumerGroupDO consume mode", () => {
  it("a group claimed for POP refuses push and pull members, across a restart, until it is forgotten; a group with live members cannot be claimed", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"));
    await cg.claimPop(name, topic);
    await cg.claimPop(name, topic); // claiming again changes nothing
    await evictDurableObject(cg);
    expect((await rejection(cg.heartbeat(name, hb("cid-1", [topic])))).message).toMatch(/^\[CONSUME_MODE_MISMATCH\] /);
    expect((await cg.info(name)).consumeMode).toBe("POP");
    await cg.forgetConsumeMode();
    expect((await cg.heartbeat(name, hb("cid-1", [topic]))).members).toBe(1);
    expect((await rejection(cg.claimPop(name, topic))).message).toMatch(/^\[CONSUME_MODE_MISMATCH\] group ".*" has 1 live push or pull member/);
    expect((await cg.info(name)).consumeMode).toBe("OFFSETS");
  });
});

describe("ConsumerGroupDO restart", () => {
  function setAliveAt(cg: DurableObjectStub<ConsumerGroupDO>, at: number): Promise<void> {
    return runInDurableObject(cg, (_i, state) => {
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('alive_at', ?)", at);
    });
  }

  it("crash item: members that heartbeat again after a restart keep their queues and generation, unfenced", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a"), qd("broker-b"));
    await cg.heartbeat(name, hb("cid-1", [topic]));
    const joined = await cg.heartbeat(name, hb("cid-2", [topic]));
    expect(joined.generation).toBe(2);
    const held = (cid: string) => expectedShares("AVERAGELY", { [topic]: topicQueues(topic) }, ["cid-1", "cid-2"]).get(cid)!;

    await evictDurableObject(cg);
    // The surviving members' next heartbeats change nothing: same generation, same queues.
    for (const cid of ["cid-1", "cid-2"]) {
      const again = await cg.heartbeat(name, hb(cid, [topic], { generation: 2, heldQueues: held(cid) }));
      expect(again).toEqual({ generation: 2, assignment: held(cid), offsetResetSeq: 0, members: 2, sessionTimeoutMs: 3000 });
    }
    // Their pulls and commits under the generation they hold are still taken.
    for (const cid of ["cid-1", "cid-2"]) {
      for (const mq of held(cid)) expect(await fencedPull(mq, name, { clientId: cid, generation: 2 })).toBe("NO_NEW_MSG");
      await queueStub(held(cid)[0]!).commitOffset(name, 0, { clientId: cid, generation: 2 });
    }
    expect((await cg.info(name)).generation).toBe(2);

    // A member that does not come back is dropped after its session, counted from before the restart.
    await evictDurableObject(cg);
    await silence(cg, "cid-2", 3001);
    expect(await runDurableObjectAlarm(cg)).toBe(true);
    expect((await cg.info(name)).members.map((m) => m.clientId)).toEqual(["cid-1"]);
    for (const mq of held("cid-2")) await expectOwner(mq, name, "cid-1", 3);
  });

  it("crash item: owners restored after a restart are told to their queues again, so a queue object that missed the last change converges", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    const [q0, q1] = mqs(topic, "broker-a", [0, 1]) as [MessageQueue, MessageQueue];
    await cg.heartbeat(name, hb("cid-A", [topic], { sessionTimeoutMs: 30_000 }));
    // cid-B joins: q1 is told it is cid-B's at generation 2 ...
    expect(await cg.heartbeat(name, hb("cid-B", [topic]))).toMatchObject({ generation: 2, assignment: [q1] });
    await expectOwner(q1, name, "cid-B", 2);
    // ... and the object stops before storing that: storage still names cid-A, mid-telling.
    // The restart comes 10 s later: cid-B's 3 s session is over, cid-A's 30 s one is not.
    await runInDurableObject(cg, (_i, state) => {
      state.storage.sql.exec("UPDATE queue_owner SET client_id = 'cid-A' WHERE queue = ?", `broker-a/${topic}/1`);
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('telling', 1), ('alive_at', ?)", Date.now() - 10_000);
    });
    await evictDurableObject(cg);

    // cid-B is dropped, so cid-A owns both queues again, as storage says: q1 must hear it.
    const back = await cg.heartbeat(name, hb("cid-A", [topic], { sessionTimeoutMs: 30_000, generation: 2 }));
    expect(back).toMatchObject({ generation: 3, assignment: [q0, q1], members: 1 });
    await expectOwner(q1, name, "cid-A", 3);
    expect(await fencedPull(q0, name, { clientId: "cid-A", generation: 3 })).toBe("NO_NEW_MSG");
    // Told once: a later restart (nothing being told) tells no queue again.
    await evictDurableObject(cg);
    expect(await cg.heartbeat(name, hb("cid-A", [topic], { sessionTimeoutMs: 30_000, generation: 3 }))).toMatchObject({ generation: 3 });
    await expectOwner(q1, name, "cid-A", 3);
  });

  it("crash item: a restart of a group with more members than queues keeps its generation", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 1));
    const [q0] = mqs(topic, "broker-a", [0]) as [MessageQueue];
    await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(await cg.heartbeat(name, hb("cid-2", [topic]))).toMatchObject({ generation: 2, assignment: [] });

    await evictDurableObject(cg);
    expect(await cg.heartbeat(name, hb("cid-1", [topic], { generation: 2, heldQueues: [q0] }))).toMatchObject({
      generation: 2,
      assignment: [q0],
    });
    expect(await cg.heartbeat(name, hb("cid-2", [topic], { generation: 2, heldQueues: [] }))).toMatchObject({
      generation: 2,
      assignment: [],
    });
    expect((await cg.info(name)).generation).toBe(2);
    await expectOwner(q0, name, "cid-1", 1);
  });

  it("crash item: after an outage longer than their sessions, stored members are dropped at once", async () => {
    const { name, cg } = newGroup();
    const topic = await createTopic(qd("broker-a", 2));
    await cg.heartbeat(name, hb("cid-1", [topic]));
    await cg.heartbeat(name, hb("cid-2", [topic]));
    // The group was last alive 10 s ago: longer than the 3 s sessions.
    await setAliveAt(cg, Date.now() - 10_000);
    await evictDurableObject(cg);
    const back = await cg.heartbeat(name, hb("cid-1", [topic]));
    expect(back).toMatchObject({ generation: 3, assignment: mqs(topic, "broker-a", [0, 1]), members: 1 });
    // cid-1 kept its own queue throughout (owner since generation 1); cid-2's moved to it.
    await expectOwner({ topic, brokerName: "broker-a", queueId: 0 }, name, "cid-1", 1);
    await expectOwner({ topic, brokerName: "broker-a", queueId: 1 }, name, "cid-1", 3);
  });
});
