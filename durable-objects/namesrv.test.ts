import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { QueueData } from "../protocol/route.js";
import type { NameServerDO } from "./namesrv.js";
import { sleep } from "./test-support.js";

/** A fresh NameServer object per call: every test gets its own route table. */
function nameServer(): DurableObjectStub<NameServerDO> {
  return env.NAMESRV.get(env.NAMESRV.idFromName(`ns-test-${crypto.randomUUID()}`));
}

function queues(readQueueNums: number, writeQueueNums = readQueueNums, brokerName = "broker-a"): QueueData[] {
  return [{ brokerName, readQueueNums, writeQueueNums, perm: 6, topicSysFlag: 0 }];
}

describe("NameServerDO upsertTopic", () => {
  it("create: stores a new topic and refuses an existing one", async () => {
    const ns = nameServer();
    const before = Date.now();
    const created = await ns.upsertTopic("TopicA", queues(4), "create");
    const after = Date.now();
    expect(created.ok).toBe(true);
    if (!created.ok) throw new Error("unreachable");
    expect(created.created).toBe(true);
    expect(created.config.topic).toBe("TopicA");
    expect(created.config.queues).toEqual(queues(4));
    expect(created.config.updatedAt).toBe(created.config.createdAt);
    expect(created.config.createdAt).toBeGreaterThanOrEqual(before);
    expect(created.config.createdAt).toBeLessThanOrEqual(after);
    expect(await ns.getTopic("TopicA")).toEqual(created.config);

    const again = await ns.upsertTopic("TopicA", queues(8), "create");
    expect(again).toEqual({ ok: false, code: "TOPIC_ALREADY_EXISTS", config: created.config });
    // Nothing changed.
    expect(await ns.getTopic("TopicA")).toEqual(created.config);
  });

  it("upsert: creates, then replaces the queues keeping createdAt", async () => {
    const ns = nameServer();
    const first = await ns.upsertTopic("TopicU", queues(2), "upsert");
    expect(first.ok).toBe(true);
    if (!first.ok) throw new Error("unreachable");
    expect(first.created).toBe(true);
    expect(first.config.queues).toEqual(queues(2));

    await sleep(15);
    const twoBrokers = [...queues(8, 6), ...queues(4, 4, "broker-b")];
    const second = await ns.upsertTopic("TopicU", twoBrokers, "upsert");
    expect(second.ok).toBe(true);
    if (!second.ok) throw new Error("unreachable");
    expect(second.created).toBe(false);
    expect(second.config.topic).toBe("TopicU");
    expect(second.config.queues).toEqual(twoBrokers);
    expect(second.config.createdAt).toBe(first.config.createdAt);
    expect(second.config.updatedAt).toBeGreaterThan(first.config.updatedAt);
    expect(await ns.getTopic("TopicU")).toEqual(second.config);
  });

  it("createIfAbsent: creates once, then returns the existing config untouched", async () => {
    const ns = nameServer();
    const first = await ns.upsertTopic("TopicC", queues(3), "createIfAbsent");
    expect(first.ok).toBe(true);
    if (!first.ok) throw new Error("unreachable");
    expect(first.created).toBe(true);
    expect(first.config.queues).toEqual(queues(3));

    await sleep(15);
    const second = await ns.upsertTopic("TopicC", queues(16), "createIfAbsent");
    expect(second).toEqual({ ok: true, created: false, config: first.config });
    expect(await ns.getTopic("TopicC")).toEqual(first.config);
  });
});

describe("NameServerDO reads and deletes", () => {
  it("getTopic returns null for an unknown topic", async () => {
    const ns = nameServer();
    expect(await ns.getTopic("Nope")).toBeNull();
    expect(await ns.listTopics()).toEqual([]);
  });

  it("listTopics returns every topic sorted by name", async () => {
    const ns = nameServer();
    const names = ["b-topic", "A", "a", "c_1", "B", "a-b", "%RETRY%G1"];
    const configs = new Map<string, unknown>();
    for (const [i, name] of names.entries()) {
      const r = await ns.upsertTopic(name, queues(i + 1), "create");
      expect(r.ok).toBe(true);
      configs.set(name, r.config);
    }
    const listed = await ns.listTopics();
    expect(listed.map((t) => t.topic)).toEqual(["%RETRY%G1", "A", "B", "a", "a-b", "b-topic", "c_1"]);
    for (const t of listed) expect(t).toEqual(configs.get(t.topic));
  });

  it("deleteTopic returns the old config, then null", async () => {
    const ns = nameServer();
    const kept = await ns.upsertTopic("Keep", queues(1), "create");
    const doomed = await ns.upsertTopic("Doomed", queues(5), "create");
    expect(doomed.ok).toBe(true);

    expect(await ns.deleteTopic("Doomed")).toEqual(doomed.config);
    expect(await ns.getTopic("Doomed")).toBeNull();
    expect(await ns.deleteTopic("Doomed")).toBeNull();
    expect(await ns.listTopics()).toEqual([kept.config]);

    // A deleted topic can be created afresh.
    const recreated = await ns.upsertTopic("Doomed", queues(2), "create");
    expect(recreated.ok).toBe(true);
    if (!recreated.ok) throw new Error("unreachable");
    expect(recreated.created).toBe(true);
    expect(recreated.config.queues).toEqual(queues(2));
  });

  it("keeps the route table across eviction", async () => {
    const ns = nameServer();
    const a = await ns.upsertTopic("T1", queues(4), "create");
    const b = await ns.upsertTopic("T2", queues(2, 2, "broker-b"), "create");
    await evictDurableObject(ns);
    expect(await ns.listTopics()).toEqual([a.config, b.config]);
    expect(await ns.getTopic("T2")).toEqual(b.config);
    expect(await ns.deleteTopic("T1")).toEqual(a.config);
    await evictDurableObject(ns);
    expect(await ns.listTopics()).toEqual([b.config]);
  });
});
