/**
 * NameServer route table and broker registration, with injected clocks (BROKER_EXPIRY_MS is
 * 1000 in this project), and the broker object that owns a topic table and registers it.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { BrokerRegistration, BrokerTopicConfig } from "../protocol/route.js";
import type { NameServerDO } from "./namesrv.js";
import { rejection } from "./test-support.js";

const EXPIRY_MS = 1000;

function nameServer(): DurableObjectStub<NameServerDO> {
  return env.NAMESRV.get(env.NAMESRV.idFromName(`ns-test-${crypto.randomUUID()}`));
}

function topicConfig(topic: string, queueNums: number, extra: Partial<BrokerTopicConfig> = {}): BrokerTopicConfig {
  return { topic, readQueueNums: queueNums, writeQueueNums: queueNums, perm: 6, topicSysFlag: 0, createdAt: 100, updatedAt: 100, ...extra };
}

function reg(brokerName: string, dataVersion: number, topics: BrokerTopicConfig[] | null, brokerId = 0, incarnation = 1): BrokerRegistration {
  return { clusterName: "C", brokerName, brokerId, role: brokerId === 0 ? "ASYNC_MASTER" : "SLAVE", incarnation, permission: 6, dataVersion, topics };
}

describe("NameServerDO registration", () => {
  it("builds routes from registered brokers and merges a topic held by two", async () => {
    const ns = nameServer();
    const t0 = 1_000_000;
    await ns.registerBroker(reg("broker-a", 1, [topicConfig("T", 4), topicConfig("Only-A", 2)]), t0);
    await ns.registerBroker(reg("broker-b", 1, [topicConfig("T", 8, { createdAt: 50, updatedAt: 300 })]), t0);
    await ns.registerBroker(reg("broker-a", 1, null, 1), t0); // broker-a's slave member
    const route = await ns.getTopic("T", t0 + 1);
    expect(route).toEqual({
      topic: "T",
      queues: [
        { brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
        { brokerName: "broker-b", readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 },
      ],
      createdAt: 50,
      updatedAt: 300,
    });
    expect((await ns.listTopics(t0 + 1)).map((t) => t.topic)).toEqual(["Only-A", "T"]);
    const brokers = await ns.listBrokers(t0 + 1);
    expect(brokers.map((b) => [b.brokerName, b.alive, b.topicCount])).toEqual([
      ["broker-a", true, 2],
      ["broker-b", true, 1],
    ]);
    expect(brokers[0]!.brokerAddrs).toEqual({ "0": "/brokers/broker-a", "1": "/brokers/broker-a?brokerId=1" });
    expect(brokers[1]!.brokerAddrs).toEqual({ "0": "/brokers/broker-b" });
  });

  it("drops a broker silent for the expiry from the routes, and takes it back on its next heartbeat", async () => {
    const ns = nameServer();
    const t0 = 2_000_000;
    await ns.registerBroker(reg("broker-a", 1, [topicConfig("T", 4)]), t0);
    await ns.registerBroker(reg("broker-b", 1, [topicConfig("T", 4)]), t0);
    // broker-a keeps heartbeating; broker-b falls silent.
    await ns.registerBroker(reg("broker-a", 1, null), t0 + EXPIRY_MS - 10);
    expect((await ns.getTopic("T", t0 + EXPIRY_MS - 1))!.queues.map((q) => q.brokerName)).toEqual(["broker-a", "broker-b"]);
    const after = t0 + EXPIRY_MS + 1;
    expect((await ns.getTopic("T", after))!.queues.map((q) => q.brokerName)).toEqual(["broker-a"]);
    expect((await ns.listBrokers(after)).map((b) => [b.brokerName, b.alive])).toEqual([
      ["broker-a", true],
      ["broker-b", false],
    ]);
    // A plain heartbeat of the same version brings it back with its topics.
    expect(await ns.registerBroker(reg("broker-b", 1, null), after + 5)).toEqual({ stale: false });
    expect((await ns.getTopic("T", after + 6))!.queues.map((q) => q.brokerName)).toEqual(["broker-a", "broker-b"]);
    // With every holder expired the topic has no route at all.
    expect(await ns.getTopic("T", after + 10 * EXPIRY_MS)).toBeNull();
  });

  it("keeps a broker whose master is silent in the routes while its slave registers, READ only", async () => {
    const ns = nameServer();
    const t0 = 2_500_000;
    await ns.registerBroker(reg("broker-a", 3, [topicConfig("T", 4)]), t0);
    await ns.registerBroker(reg("broker-a", 3, [topicConfig("T", 4)], 1), t0);
    // Only the slave member goes on heartbeating.
    await ns.registerBroker(reg("broker-a", 3, null, 1), t0 + EXPIRY_MS - 10);
    const after = t0 + EXPIRY_MS + 1;
    expect((await ns.getTopic("T", after))!.queues).toEqual([{ brokerName: "broker-a", readQueueNums: 4, writeQueueNums: 4, perm: 4, topicSysFlag: 0 }]);
    const [b] = await ns.listBrokers(after);
    expect(b).toMatchObject({ alive: true, permission: 4, brokerAddrs: { "1": "/brokers/broker-a?brokerId=1" } });
    expect(b!.members.map((m) => [m.brokerId, m.alive])).toEqual([
      [0, false],
      [1, true],
    ]);
    // A slave's table copy that lags the master's is not taken over the newer one.
    await ns.registerBroker(reg("broker-a", 2, [], 1), after + 1);
    expect((await ns.getTopic("T", after + 2))!.queues.length).toBe(1);
    // The lagging slave's plain heartbeat is no reason to send its table again (no loop).
    expect(await ns.registerBroker(reg("broker-a", 2, null, 1), after + 2)).toEqual({ stale: false });
    // The master back: writable again.
    await ns.registerBroker(reg("broker-a", 3, null), after + 3);
    expect((await ns.getTopic("T", after + 4))!.queues[0]!.perm).toBe(6);
  });

  it("takes a later incarnation's table even at a lower version (a broker removed and added again)", async () => {
    const ns = nameServer();
    await ns.registerBroker(reg("broker-a", 9, [topicConfig("Old", 1)]), 10);
    expect(await ns.registerBroker(reg("broker-a", 1, null, 0, 2), 11)).toEqual({ stale: true });
    await ns.registerBroker(reg("broker-a", 1, [topicConfig("New", 1)], 0, 2), 12);
    expect((await ns.listTopics(13)).map((t) => t.topic)).toEqual(["New"]);
    // A late registration of the earlier incarnation changes nothing.
    await ns.registerBroker(reg("broker-a", 10, [topicConfig("Old", 1)]), 14);
    expect((await ns.listTopics(15)).map((t) => t.topic)).toEqual(["New"]);
  });

  it("ignores slave members beyond BROKER_SLAVES (the count was lowered)", async () => {
    const ns = nameServer();
    await ns.registerBroker(reg("broker-a", 1, [topicConfig("T", 1)], 0), 10);
    await ns.registerBroker(reg("broker-a", 1, null, 2), 10); // this project has one slave
    const [b] = await ns.listBrokers(11);
    expect(b!.members.map((m) => m.brokerId)).toEqual([0]);
    expect(await ns.getTopic("T", 10 + EXPIRY_MS + 5)).toBeNull(); // member 2 does not keep it alive
  });

  it("asks for the full table when a heartbeat carries an unknown version, without recording it", async () => {
    const ns = nameServer();
    const t0 = 3_000_000;
    expect(await ns.registerBroker(reg("broker-a", 7, null), t0)).toEqual({ stale: true });
    expect(await ns.registerBroker(reg("broker-a", 7, null), t0 + 1)).toEqual({ stale: true });
    expect(await ns.registerBroker(reg("broker-a", 7, [topicConfig("T", 2)]), t0 + 2)).toEqual({ stale: false });
    expect(await ns.registerBroker(reg("broker-a", 7, null), t0 + 3)).toEqual({ stale: false });
    expect((await ns.listBrokers(t0 + 4))[0]!.dataVersion).toBe(7);
  });

  it("applies a changed table: changed topics updated, removed ones gone, the rest kept", async () => {
    const ns = nameServer();
    const topics = Array.from({ length: 20 }, (_, i) => topicConfig(`T${i}`, 4));
    await ns.registerBroker(reg("broker-a", 1, topics), 10);
    const changed = topics.slice(0, 19).map((t, i) => (i === 0 ? { ...t, perm: 4, updatedAt: 30 } : t));
    await ns.registerBroker(reg("broker-a", 2, changed), 30);
    expect((await ns.getTopic("T0", 31))!.queues[0]!.perm).toBe(4);
    expect(await ns.getTopic("T19", 31)).toBeNull();
    expect((await ns.listTopics(31)).length).toBe(19);
    expect((await ns.getTopic("T5", 31))!.queues[0]!.perm).toBe(6);
  });

  it("unregisters a broker at once", async () => {
    const ns = nameServer();
    await ns.registerBroker(reg("broker-a", 1, [topicConfig("T", 4)]), 10);
    await ns.unregisterBroker("broker-a");
    expect(await ns.getTopic("T", 11)).toBeNull();
    expect(await ns.listBrokers(11)).toEqual([]);
  });

  it("hands a broker its topics from the table of earlier releases", async () => {
    const ns = nameServer();
    await runInDurableObject(ns, (_i, state) => {
      state.storage.sql.exec(
        "INSERT INTO topic (topic, queues, created_at, updated_at) VALUES (?, ?, 5, 6)",
        "Old",
        JSON.stringify([
          { brokerName: "broker-a", readQueueNums: 3, writeQueueNums: 3, perm: 6, topicSysFlag: 0 },
          { brokerName: "broker-b", readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
        ]),
      );
    });
    expect(await ns.legacyTopics("broker-a")).toEqual([topicConfig("Old", 3, { createdAt: 5, updatedAt: 6 })]);
    expect(await ns.legacyTopics("broker-z")).toEqual([]);
  });
});

describe("BrokerDO", () => {
  function broker(name: string) {
    return env.BROKER.get(env.BROKER.idFromName(name));
  }
  const instances = ["ns-0", "ns-1"].map((n) => env.NAMESRV.get(env.NAMESRV.idFromName(n)));

  it("registers with every NameServer on start and at once on a topic change", async () => {
    const name = `broker-${crypto.randomUUID().slice(0, 8)}`;
    const b = broker(name);
    const state = await b.start(name);
    expect(state.brokerIds).toEqual({ "0": "ASYNC_MASTER", "1": "SLAVE" });
    for (const ns of instances) {
      // The master registered before answering; its slave member registers on its own alarm.
      const seen = await vi.waitUntil(
        async () => {
          const listed = (await ns.listBrokers()).find((x) => x.brokerName === name)!;
          return listed.members.length >= 2 && listed;
        },
        { timeout: 5000, interval: 20 },
      );
      expect(seen.members.map((m) => [m.brokerId, m.role, m.alive])).toEqual([
        [0, "ASYNC_MASTER", true],
        [1, "SLAVE", true],
      ]);
    }
    await b.upsertTopic("HaTopic-1", { readQueueNums: 2, writeQueueNums: 2, perm: 6 }, "create");
    for (const ns of instances) {
      const route = await ns.getTopic("HaTopic-1");
      expect(route!.queues.find((q) => q.brokerName === name)).toMatchObject({ readQueueNums: 2, perm: 6 });
    }
    // create of the same topic with other queues is refused; the same queues again is fine.
    const refused = await rejection(b.upsertTopic("HaTopic-1", { readQueueNums: 4, writeQueueNums: 4, perm: 6 }, "create"));
    expect(refused.message).toContain("TOPIC_ALREADY_EXISTS");
    expect((await b.upsertTopic("HaTopic-1", { readQueueNums: 2, writeQueueNums: 2, perm: 6 }, "create")).created).toBe(false);
    expect((await b.deleteTopic("HaTopic-1"))!.topic).toBe("HaTopic-1");
    for (const ns of instances) expect((await ns.getTopic("HaTopic-1"))?.queues.find((q) => q.brokerName === name)).toBeUndefined();
  });

  it("drains: without WRITE its topics lose write permission in the routes, and get it back", async () => {
    const name = `broker-${crypto.randomUUID().slice(0, 8)}`;
    const b = broker(name);
    await b.start(name);
    await b.upsertTopic("HaTopic-2", { readQueueNums: 1, writeQueueNums: 1, perm: 6 }, "create");
    expect(await b.setWritable(false)).toEqual(["HaTopic-2"]);
    const perm = async () => (await instances[0]!.getTopic("HaTopic-2"))!.queues.find((q) => q.brokerName === name)!.perm;
    expect(await perm()).toBe(4);
    // The broker's own table keeps the topic's permission; only the routes are masked.
    expect((await b.getTopic("HaTopic-2"))!.perm).toBe(6);
    await b.setWritable(true);
    expect(await perm()).toBe(6);
  });

  it("heartbeats on its alarm, falls out of the routes when silent, and returns when it speaks again", async () => {
    const name = `broker-${crypto.randomUUID().slice(0, 8)}`;
    const b = broker(name);
    await b.start(name);
    await b.upsertTopic("HaTopic-3", { readQueueNums: 1, writeQueueNums: 1, perm: 6 }, "create");
    // The NameServer is asked as of a given time (its injected clock): the broker and its
    // alarms run on the real one, and the test reads the routes later than that, not after it.
    const seen = async (now = Date.now()) => (await instances[1]!.listBrokers(now)).find((x) => x.brokerName === name)!;
    const first = (await seen()).lastUpdateTimestamp;
    await vi.waitUntil(() => Date.now() > first, { interval: 1 }); // the next registration is dated later
    expect(await runDurableObjectAlarm(b)).toBe(true);
    expect((await seen()).lastUpdateTimestamp).toBeGreaterThan(first);

    const slaveMember = broker(`${name}@1`);
    await b.testSetSilent(true);
    await slaveMember.testSetSilent(true);
    await runDurableObjectAlarm(b); // a silent broker's alarm registers nothing
    const last = (await seen()).lastUpdateTimestamp;
    // Just past the expiry of its last registration (master or slave member, whichever was later).
    const expired = last + EXPIRY_MS + 1;
    expect((await seen(expired)).alive).toBe(false);
    expect(await instances[1]!.getTopic("HaTopic-3", expired)).toBeNull();
    await vi.waitUntil(() => Date.now() > last + 1, { interval: 1 }); // speaking again is dated after `expired - EXPIRY_MS`
    await b.testSetSilent(false);
    await slaveMember.testSetSilent(false);
    expect((await seen(expired)).alive).toBe(true);
    expect((await instances[1]!.getTopic("HaTopic-3", expired))!.queues[0]!.brokerName).toBe(name);
  });
});
