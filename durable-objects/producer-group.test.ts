/**
 * The producer-group object inside workerd: checks queued by the queues and polled by producers
 * (held by the Worker), the check-back webhook, and the byte and count bounds on pending checks.
 * Longer than ~350 lines because the check queue, the polls and the webhook are one conversation
 * with the queue objects, tested through the same helpers.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { StoredMessage } from "../protocol/message.js";
import type { LocalTransactionState, TransactionCheck } from "../protocol/transaction.js";
import type { ProducerGroupDO } from "./producer-group.js";
import type { QueueDO } from "./queue.js";
import { checkBytes } from "./producer-group/pending-checks.js";
import { newQueue } from "./test-support.js";
import { holdCheckPoll } from "../cluster/long-polls.js";

const MiB = 1024 * 1024;
/** MAX_PENDING_CHECK_BYTES and POLL_MAX_BYTES of producer-group.ts. */
const PENDING_BUDGET = 16 * MiB;
const POLL_BUDGET = 8 * MiB;
/** A 3 MiB body in base64, as a check carries it. */
const BODY_3MIB = "A".repeat(4 * MiB);

/** A fresh producer group object per call: every test gets its own. */
function producerGroup(): { pg: DurableObjectStub<ProducerGroupDO>; name: string } {
  const name = `PG-${crypto.randomUUID()}`;
  return { pg: env.PRODUCER_GROUP.get(env.PRODUCER_GROUP.idFromName(name)), name };
}

function check(transactionId: string, group: string, checkTimes = 1): TransactionCheck {
  const mq = { topic: "TopicT", brokerName: "broker-a", queueId: 2 };
  return {
    transactionId,
    producerGroup: group,
    messageQueue: mq,
    checkTimes,
    message: {
      ...mq,
      queueOffset: -1,
      msgId: transactionId,
      offsetMsgId: "",
      tags: "TagA",
      keys: ["k"],
      properties: { TRAN_MSG: "true", PGROUP: group, TRANSACTION_CHECK_TIMES: String(checkTimes) },
      bornTimestamp: 1_700_000_000_000,
      bornHost: "10.0.0.1:1",
      storeTimestamp: 1_700_000_000_000,
      reconsumeTimes: 0,
      flag: 0,
      body: "aGVsbG8=",
    },
  };
}

async function waitForParked(pg: DurableObjectStub<ProducerGroupDO>, n: number): Promise<void> {
  await vi.waitUntil(async () => (await pg.status()).parkedPolls === n, { timeout: 5000, interval: 5 });
}

describe("ProducerGroupDO", () => {
  it("hands an enqueued check to one poll, once", async () => {
    const { pg, name } = producerGroup();
    expect(await pg.status()).toEqual({ pendingChecks: 0, pendingCheckBytes: 0, parkedPolls: 0, lastPollAt: 0, webhookUrl: null });
    const c = check("TX1", name);
    await pg.enqueueCheck(c);
    expect((await pg.status()).pendingChecks).toBe(1);
    const before = Date.now();
    expect(await pg.pollChecks(10)).toEqual([c]);
    expect(await pg.pollChecks(10)).toEqual([]);
    const status = await pg.status();
    expect(status.pendingChecks).toBe(0);
    expect(status.parkedPolls).toBe(0);
    expect(status.lastPollAt).toBeGreaterThanOrEqual(before);
  });

  it("returns an empty answer when nothing arrives before the wait runs out", async () => {
    const { pg } = producerGroup();
    const started = Date.now();
    expect(await holdCheckPoll(pg, 10, undefined, { maxWaitMs: 250, account: "" })).toEqual([]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
    expect((await pg.status()).parkedPolls).toBe(0);
  });

  it("wakes a parked poll as soon as a check is enqueued", async () => {
    const { pg, name } = producerGroup();
    const started = Date.now();
    const pending = holdCheckPoll(pg, 10, undefined, { maxWaitMs: 5000, account: "" });
    await waitForParked(pg, 1);
    const c = check("TX2", name);
    await pg.enqueueCheck(c);
    expect(await pending).toEqual([c]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pg.status()).toMatchObject({ pendingChecks: 0, parkedPolls: 0 });
  });

  it("gives each check to exactly one of several parked polls", async () => {
    const { pg, name } = producerGroup();
    const started = Date.now();
    const first = holdCheckPoll(pg, 10, undefined, { maxWaitMs: 5000, account: "" });
    const second = holdCheckPoll(pg, 10, undefined, { maxWaitMs: 5000, account: "" });
    await waitForParked(pg, 2);
    await pg.enqueueCheck(check("TXA", name));
    // One poll takes it; the other is parked again.
    await waitForParked(pg, 1);
    await pg.enqueueCheck(check("TXB", name));
    const results = await Promise.all([first, second]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(results.map((r) => r.map((c) => c.transactionId)).sort()).toEqual([["TXA"], ["TXB"]]);
    expect(await pg.status()).toMatchObject({ pendingChecks: 0, parkedPolls: 0 });
  });

  it("replaces an undelivered check with a newer one of the same transaction", async () => {
    const { pg, name } = producerGroup();
    await pg.enqueueCheck(check("TX1", name, 1));
    await pg.enqueueCheck(check("TX2", name, 1));
    await pg.enqueueCheck(check("TX1", name, 2));
    expect((await pg.status()).pendingChecks).toBe(2);
    // The newer check takes the older one's place at the back of the line.
    expect(await pg.pollChecks(10)).toEqual([check("TX2", name, 1), check("TX1", name, 2)]);
    expect(await pg.pollChecks(10)).toEqual([]);
    // Once delivered, a later check of the same transaction is delivered again.
    await pg.enqueueCheck(check("TX1", name, 3));
    expect(await pg.pollChecks(10)).toEqual([check("TX1", name, 3)]);
  });

  it("returns at most max checks per poll, oldest first", async () => {
    const { pg, name } = producerGroup();
    for (let i = 0; i < 5; i++) await pg.enqueueCheck(check(`TX${i}`, name));
    const ids = async (max: number) => (await pg.pollChecks(max)).map((c) => c.transactionId);
    expect(await ids(2)).toEqual(["TX0", "TX1"]);
    expect((await pg.status()).pendingChecks).toBe(3);
    expect(await ids(1)).toEqual(["TX2"]);
    expect(await ids(10)).toEqual(["TX3", "TX4"]);
    expect(await ids(10)).toEqual([]);
  });

  it("keeps at most 10000 undelivered checks, dropping the oldest", async () => {
    const { pg, name } = producerGroup();
    await runInDurableObject(pg, async (instance) => {
      for (let i = 0; i <= 10_000; i++) await instance.enqueueCheck(check(`TX${i}`, name));
    });
    expect((await pg.status()).pendingChecks).toBe(10_000);
    expect((await pg.pollChecks(2)).map((c) => c.transactionId)).toEqual(["TX1", "TX2"]);
  });

  it("item 8: holds pending checks within 16 MiB, dropping the oldest: of twelve with 3 MiB bodies the newest three stay", async () => {
    const { pg, name } = producerGroup();
    const big = (i: number): TransactionCheck => {
      const c = check(`TX${i}`, name);
      return { ...c, message: { ...c.message, body: BODY_3MIB } };
    };
    for (let i = 0; i < 12; i++) await pg.enqueueCheck(big(i));
    const kept = [9, 10, 11].map(big);
    // Three fit; a fourth would pass the budget.
    expect(checkBytes(big(8)) + kept.reduce((n, c) => n + checkBytes(c), 0)).toBeGreaterThan(PENDING_BUDGET);
    const status = await pg.status();
    expect(status).toMatchObject({ pendingChecks: 3, pendingCheckBytes: kept.reduce((n, c) => n + checkBytes(c), 0) });
    expect(status.pendingCheckBytes).toBeLessThanOrEqual(PENDING_BUDGET);
    // A poll answers at most 8 MiB of checks: one of these at a time, oldest first, intact.
    expect(2 * checkBytes(big(9))).toBeGreaterThan(POLL_BUDGET);
    for (const c of kept) expect(await pg.pollChecks(32)).toEqual([c]);
    expect(await pg.pollChecks(32)).toEqual([]);
    expect(await pg.status()).toMatchObject({ pendingChecks: 0, pendingCheckBytes: 0 });
  });

  it("item 8: a poll stops before 8 MiB of checks but always answers one, and takes many small ones at once", async () => {
    const { pg, name } = producerGroup();
    const c = check("BIG", name);
    const huge = { ...c, message: { ...c.message, body: "A".repeat(POLL_BUDGET + 1000) } };
    await pg.enqueueCheck(huge);
    for (let i = 0; i < 5; i++) await pg.enqueueCheck(check(`S${i}`, name));
    expect((await pg.pollChecks(32)).map((x) => x.transactionId)).toEqual(["BIG"]);
    expect((await pg.pollChecks(32)).map((x) => x.transactionId)).toEqual(["S0", "S1", "S2", "S3", "S4"]);
  });
});

function half(id: string, group: string): StoredMessage {
  return {
    msgId: id,
    tags: "TagW",
    keys: [],
    properties: { TRAN_MSG: "true", PGROUP: group },
    bornTimestamp: 1_700_000_000_000,
    bornHost: "10.0.0.3:3",
    flag: 0,
    reconsumeTimes: 0,
    body: new TextEncoder().encode(`body of ${id}`),
  };
}

/** Raises the first check of every pending transaction of `q` now. */
async function raiseChecks(q: DurableObjectStub<QueueDO>): Promise<void> {
  await runInDurableObject(q, (_i, state) => {
    state.storage.sql.exec("UPDATE half SET check_at = 0 WHERE state = 'PENDING'");
  });
  expect(await runDurableObjectAlarm(q)).toBe(true);
}

type Call = { url: string; method: string; contentType: string | null; body: unknown };

/**
 * Answers the group's webhook POSTs in this isolate (the Durable Objects of the main worker
 * run in the test's isolate, so they call this stub). Each call is recorded.
 */
function stubWebhook(answer: (call: Call) => Response | Promise<Response>): { calls: Call[]; restore: () => void } {
  const calls: Call[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const call: Call = {
      url: request.url,
      method: request.method,
      contentType: request.headers.get("content-type"),
      body: JSON.parse(await request.text()),
    };
    calls.push(call);
    return answer(call);
  });
  return { calls, restore: () => spy.mockRestore() };
}

const HOOK = "https://hooks.example/check";

describe("ProducerGroupDO check-back webhook", () => {
  for (const [decision, state, queueOffset] of [
    ["COMMIT_MESSAGE", "COMMITTED", 0],
    ["ROLLBACK_MESSAGE", "ROLLED_BACK", null],
  ] as const) {
    it(`applies a webhook's ${decision} to the queue at once, leaving nothing to poll`, async () => {
      const { q, mq } = newQueue("W");
      const { pg, name } = producerGroup();
      await pg.setWebhook(HOOK);
      await q.prepareHalf(mq, half("TXW", name), name, Date.now() + 3600_000);
      const hook = stubWebhook(() => Response.json({ decision }));
      try {
        await raiseChecks(q);
      } finally {
        hook.restore();
      }
      expect(hook.calls).toHaveLength(1);
      const call = hook.calls[0]!;
      expect(call).toMatchObject({ url: HOOK, method: "POST", contentType: "application/json" });
      expect(call.body).toMatchObject({ transactionId: "TXW", producerGroup: name, messageQueue: mq, checkTimes: 1 });
      expect(await q.listTransactions(undefined, 10)).toMatchObject([{ transactionId: "TXW", state, queueOffset }]);
      const pulled = await q.pull({ offset: 0, maxNums: 32 });
      expect(pulled.entries.map((e) => e.message.msgId)).toEqual(decision === "COMMIT_MESSAGE" ? ["TXW"] : []);
      expect((await pg.status()).pendingChecks).toBe(0);
      expect(await pg.pollChecks(10)).toEqual([]);
    });
  }

  it("consumes the check on UNKNOW and on a decision the queue already has", async () => {
    const { q, mq } = newQueue("W");
    const { pg, name } = producerGroup();
    await pg.setWebhook(HOOK);
    await q.prepareHalf(mq, half("U", name), name, Date.now() + 3600_000);
    await q.prepareHalf(mq, half("D", name), name, Date.now() + 3600_000);
    await q.endTransaction("D", name, "COMMIT_MESSAGE");
    const answers: Record<string, LocalTransactionState> = { U: "UNKNOW", D: "ROLLBACK_MESSAGE" };
    const hook = stubWebhook((call) => Response.json({ decision: answers[(call.body as TransactionCheck).transactionId] }));
    try {
      await raiseChecks(q);
      await pg.enqueueCheck({ ...check("D", name), messageQueue: mq });
    } finally {
      hook.restore();
    }
    expect(hook.calls.map((c) => (c.body as TransactionCheck).transactionId).sort()).toEqual(["D", "U"]);
    expect((await pg.status()).pendingChecks).toBe(0);
    expect((await q.listTransactions(undefined, 10)).map((t) => [t.transactionId, t.state]).sort()).toEqual([
      ["D", "COMMITTED"],
      ["U", "PENDING"],
    ]);
  });

  it("leaves the check for pollers when the webhook fails", async () => {
    const { pg, name } = producerGroup();
    await pg.setWebhook(HOOK);
    const failures: Record<string, () => Response> = {
      status: () => Response.json({ decision: "COMMIT_MESSAGE" }, { status: 500 }),
      notJson: () => new Response("ok"),
      badDecision: () => Response.json({ decision: "COMMIT" }),
      noDecision: () => Response.json({}),
      network: () => {
        throw new TypeError("network down");
      },
    };
    const hook = stubWebhook((call) => failures[(call.body as TransactionCheck).transactionId]!());
    try {
      for (const id of Object.keys(failures)) await pg.enqueueCheck(check(id, name));
    } finally {
      hook.restore();
    }
    expect(hook.calls).toHaveLength(5);
    expect((await pg.pollChecks(10)).map((c) => c.transactionId)).toEqual(Object.keys(failures));
  });

  it("item 8: counts checks on their way to a slow webhook against a byte bound; the rest wait for pollers", async () => {
    const { pg, name } = producerGroup();
    await pg.setWebhook(HOOK);
    const big = (i: number): TransactionCheck => {
      const c = check(`TX${i}`, name);
      return { ...c, message: { ...c.message, body: BODY_3MIB } };
    };
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const hook = stubWebhook(async () => {
      await released;
      return Response.json({ decision: "UNKNOW" });
    });
    try {
      const sends = Array.from({ length: 6 }, (_, i) => pg.enqueueCheck(big(i)));
      // 16 MiB of checks in flight at most: three of these; the other three are left to pollers.
      expect(3 * checkBytes(big(0))).toBeLessThanOrEqual(16 * MiB);
      expect(4 * checkBytes(big(0))).toBeGreaterThan(16 * MiB);
      await vi.waitUntil(async () => (await pg.status()).pendingChecks >= 3 && hook.calls.length >= 3, { timeout: 5000, interval: 5 });
      expect(hook.calls.map((c) => (c.body as TransactionCheck).transactionId).sort()).toEqual(["TX0", "TX1", "TX2"]);
      expect((await pg.status()).pendingChecks).toBe(3);
      release();
      await Promise.all(sends);
    } finally {
      hook.restore();
    }
    expect(hook.calls).toHaveLength(3);
    const polled: string[] = [];
    for (let batch = await pg.pollChecks(32); batch.length > 0; batch = await pg.pollChecks(32)) {
      polled.push(...batch.map((c) => c.transactionId));
    }
    expect(polled).toEqual(["TX3", "TX4", "TX5"]);
  });

  it("keeps the webhook across restarts until it is removed", async () => {
    const { pg, name } = producerGroup();
    await pg.setWebhook(HOOK);
    await evictDurableObject(pg);
    expect(await pg.status()).toEqual({ pendingChecks: 0, pendingCheckBytes: 0, parkedPolls: 0, lastPollAt: 0, webhookUrl: HOOK });
    await pg.setWebhook(null);
    await evictDurableObject(pg);
    expect((await pg.status()).webhookUrl).toBeNull();
    const hook = stubWebhook(() => Response.json({ decision: "COMMIT_MESSAGE" }));
    try {
      await pg.enqueueCheck(check("TXN", name));
    } finally {
      hook.restore();
    }
    expect(hook.calls).toEqual([]);
    expect((await pg.pollChecks(10)).map((c) => c.transactionId)).toEqual(["TXN"]);
  });
});

describe("ProducerGroupDO byte bound with queues", () => {
  it("item 8: a check dropped for room is raised again by its queue at the next interval, so every transaction is settled", async () => {
    const { q, mq } = newQueue("W");
    const { pg, name } = producerGroup();
    const body = new Uint8Array(3 * MiB).fill(7);
    // Six: one alarm run raises all of them (it decodes up to 16 MiB of bodies, the sixth
    // included), and only three fit the group's budget.
    const ids = Array.from({ length: 6 }, (_, i) => `BIG${i}`);
    for (const id of ids) await q.prepareHalf(mq, { ...half(id, name), body }, name, Date.now() + 3600_000);
    const committed = new Set<string>();
    /** A producer: takes every check waiting now and commits its transaction. */
    const answerChecks = async (): Promise<void> => {
      for (let checks = await pg.pollChecks(32); checks.length > 0; checks = await pg.pollChecks(32)) {
        for (const c of checks) {
          expect(c.message.body.length).toBe(4 * MiB);
          expect((await q.endTransaction(c.transactionId, name, "COMMIT_MESSAGE")).state).toBe("COMMITTED");
          committed.add(c.transactionId);
        }
      }
    };
    // Each interval: every pending check is due; alarm runs (each decoding at most 16 MiB of
    // bodies) raise them; the group keeps what fits in its budget and the producer answers.
    for (let interval = 1; interval <= 3 && committed.size < ids.length; interval++) {
      await runInDurableObject(q, (_i, state) => {
        state.storage.sql.exec("UPDATE half SET check_at = 0 WHERE state = 'PENDING'");
      });
      for (let run = 0; run < 4; run++) {
        await runDurableObjectAlarm(q);
        const status = await pg.status();
        expect(status.pendingCheckBytes).toBeLessThanOrEqual(PENDING_BUDGET);
        expect(status.pendingChecks).toBeLessThanOrEqual(3);
        await answerChecks();
      }
    }
    // Three dropped in the first interval, raised again and answered in the second.
    expect([...committed].sort()).toEqual([...ids].sort());
    const settled = await q.listTransactions(undefined, 10);
    expect(settled.map((t) => t.state)).toEqual(ids.map(() => "COMMITTED"));
    expect(settled.map((t) => t.checkTimes).sort()).toEqual([1, 1, 1, 2, 2, 2]);
  }, 60_000);
});
