/**
 * The NameServers' lists of groups for operators: a producer group's object lists its group
 * when it first hears the name (a poll, a check, a webhook), and a deleted consumer group is
 * taken off the list.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TransactionCheck } from "../protocol/transaction.js";

const INSTANCES = ["ns-0", "ns-1"];

function nameServer(instance: string) {
  return env.NAMESRV.get(env.NAMESRV.idFromName(instance));
}

async function listedEverywhere(group: string): Promise<boolean[]> {
  return Promise.all(INSTANCES.map(async (i) => (await nameServer(i).listProducerGroups()).some((g) => g.group === group)));
}

function producerGroup() {
  const name = `PG-${crypto.randomUUID()}`;
  return { pg: env.PRODUCER_GROUP.get(env.PRODUCER_GROUP.idFromName(name)), name };
}

function check(transactionId: string, group: string): TransactionCheck {
  const mq = { topic: "TopicT", brokerName: "broker-a", queueId: 0 };
  return {
    transactionId,
    producerGroup: group,
    messageQueue: mq,
    checkTimes: 1,
    message: {
      ...mq,
      queueOffset: -1,
      msgId: transactionId,
      offsetMsgId: "",
      tags: "",
      keys: [],
      properties: { TRAN_MSG: "true", PGROUP: group },
      bornTimestamp: 1_700_000_000_000,
      bornHost: "",
      storeTimestamp: 1_700_000_000_000,
      reconsumeTimes: 0,
      flag: 0,
      body: "",
    },
  };
}

describe("producer group registry", () => {
  it("lists a group with every NameServer at its first named poll, not at an unnamed one", async () => {
    const { pg, name } = producerGroup();
    const before = Date.now();
    expect(await pg.pollChecks(1)).toEqual([]);
    expect(await listedEverywhere(name)).toEqual([false, false]);
    expect(await pg.pollChecks(1, name)).toEqual([]);
    expect(await listedEverywhere(name)).toEqual([true, true]);
    const entry = (await nameServer("ns-0").listProducerGroups()).find((g) => g.group === name);
    expect(entry?.lastSeenAt).toBeGreaterThanOrEqual(before);
  });

  it("lists a group when a check waits for it, before any producer polled", async () => {
    const { pg, name } = producerGroup();
    await pg.enqueueCheck(check("TX-R1", name));
    expect(await listedEverywhere(name)).toEqual([true, true]);
    expect((await pg.status()).pendingChecks).toBe(1);
  });

  it("lists a group that sets a webhook, and not one that removes it", async () => {
    const set = producerGroup();
    await set.pg.setWebhook("https://example.com/checks", set.name);
    expect(await listedEverywhere(set.name)).toEqual([true, true]);
    const removed = producerGroup();
    await removed.pg.setWebhook(null, removed.name);
    expect(await listedEverywhere(removed.name)).toEqual([false, false]);
  });
});

describe("consumer group registry", () => {
  it("takes a deleted group off the list", async () => {
    const group = `CG-${crypto.randomUUID()}`;
    const ns = nameServer("ns-0");
    await ns.registerGroup(group, 1000);
    expect((await ns.listGroups()).find((g) => g.group === group)).toEqual({ group, lastSeenAt: 1000 });
    expect(await ns.unregisterGroup(group)).toBe(true);
    expect((await ns.listGroups()).some((g) => g.group === group)).toBe(false);
    expect(await ns.unregisterGroup(group)).toBe(false);
  });
});
