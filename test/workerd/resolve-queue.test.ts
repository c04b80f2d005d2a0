/**
 * The Worker's check of a queue named in a request, against a NameServer of the test's own
 * (NAMESRV_INSTANCES) and a long route cache, so the moment just after a broker returns (its
 * routes fresh, the Worker's broker list not yet) is held still instead of raced.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { BrokerRegistration, BrokerTopicConfig } from "../../protocol/route.js";
import type { Env } from "../../cluster/env.js";
import { nameServerStub } from "../../cluster/stubs.js";
import { listBrokers, recheckBrokers } from "../../cluster/topic-registry.js";
import { setFaults } from "../../cluster/faults.js";
import { resolveQueue } from "../../workers/broker-shard/resolve-queue.js";
import { isMQError } from "../../protocol/errors.js";

const LONG_AGO_MS = 1_000_000_000;

function topicConfig(topic: string): BrokerTopicConfig {
  return { topic, readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0, createdAt: 100, updatedAt: 100 };
}

function reg(brokerName: string, topics: BrokerTopicConfig[] | null): BrokerRegistration {
  return { clusterName: "C", brokerName, brokerId: 0, role: "ASYNC_MASTER", incarnation: 1, permission: 6, dataVersion: 1, topics };
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return "OK";
  } catch (e) {
    return isMQError(e) ? e.code : String(e);
  }
}

describe("resolveQueue", () => {
  it("takes a broker the topic's route names again while the cached broker list still has it expired", async () => {
    const instance = `ns-resolve-${crypto.randomUUID()}`;
    const testEnv = { ...env, NAMESRV_INSTANCES: instance, ROUTE_CACHE_TTL_MS: "600000", AUTO_CREATE_TOPIC_ENABLE: "true" } as Env;
    const ns = nameServerStub(testEnv, instance);
    const now = Date.now();
    await ns.registerBroker(reg("broker-a", [topicConfig("Back"), topicConfig("OnlyA")]), now);
    await ns.registerBroker(reg("broker-b", [topicConfig("Back")]), now - LONG_AGO_MS);
    // The Worker caches the list with broker-b expired (for ten minutes here).
    expect((await listBrokers(testEnv)).find((b) => b.brokerName === "broker-b")?.alive).toBe(false);

    await ns.registerBroker(reg("broker-b", null), Date.now()); // broker-b heartbeats again
    const resolved = await resolveQueue(testEnv, { broker: "broker-b", topic: "Back", queueId: "1" }, "write");
    expect(resolved.mq).toEqual({ topic: "Back", brokerName: "broker-b", queueId: 1 });

    // A broker the cached list does not know is refused, and a send to it creates no topic.
    await ns.registerBroker(reg("broker-c", [topicConfig("OnlyA")]), Date.now());
    expect(await codeOf(resolveQueue(testEnv, { broker: "broker-c", topic: "OnlyA", queueId: "0" }, "write"))).toBe("BROKER_NOT_EXIST");
    expect(await codeOf(resolveQueue(testEnv, { broker: "nobody", topic: "Fresh", queueId: "0" }, "write"))).toBe("BROKER_NOT_EXIST");
    expect(await ns.getTopic("Fresh")).toBeNull();
    expect(await codeOf(resolveQueue(testEnv, { broker: "nobody", topic: "bad name", queueId: "0" }, "write"))).toBe("BROKER_NOT_EXIST");
  });

  it("refuses an expired broker the route does not name, and keeps the refusal when the recheck cannot be made", async () => {
    const instance = `ns-resolve-${crypto.randomUUID()}`;
    const testEnv = { ...env, NAMESRV_INSTANCES: instance, ROUTE_CACHE_TTL_MS: "600000", TEST_FAULTS_ENABLED: "true" } as Env;
    const ns = nameServerStub(testEnv, instance);
    await ns.registerBroker(reg("broker-a", [topicConfig("T")]), Date.now());
    await ns.registerBroker(reg("broker-b", [topicConfig("U")]), Date.now() - LONG_AGO_MS);
    // The cache is the isolate's, whatever the NameServer: filled from this test's one.
    expect((await listBrokers(testEnv, { fresh: true })).find((b) => b.brokerName === "broker-b")?.alive).toBe(false);
    await ns.registerBroker(reg("broker-b", null), Date.now()); // back, but T's route never named it
    expect(await codeOf(resolveQueue(testEnv, { broker: "broker-b", topic: "T", queueId: "0" }, "write"))).toBe("BROKER_NOT_EXIST");

    // U's route names broker-b, but no NameServer answers the recheck: refused as before, not a 5xx.
    setFaults({ unreachableNameServers: [instance] });
    try {
      expect(await codeOf(resolveQueue(testEnv, { broker: "broker-b", topic: "U", queueId: "0" }, "write"))).toBe("BROKER_NOT_EXIST");
    } finally {
      setFaults({ unreachableNameServers: [] });
    }
  });

  it("shares one recheck of the broker list between the requests of a second", () => {
    const testEnv = { ...env, NAMESRV_INSTANCES: `ns-resolve-${crypto.randomUUID()}` } as Env;
    const first = recheckBrokers(testEnv);
    expect(recheckBrokers(testEnv)).toBe(first);
  });
});
