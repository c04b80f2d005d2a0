/**
 * Transaction check-back from a queue (transaction-check.ts): a pending half message's checks
 * raised to its producer group, with their count, interval and give-up, on exact clocks.
 * Decisions themselves are transactions.test.ts.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../protocol/base64.js";
import {
  CHECK_INTERVAL_MS,
  CHECK_MAX,
  DECIDED_RETENTION_MS,
  NOTHING,
  alarmOf,
  givenUp,
  half,
  halfRows,
  makeChecksDue,
  newQueue,
  producerGroupObject,
  rejection,
  uniqueName,
  visible,
} from "../test-support.js";
import { holdCheckPoll } from "../../cluster/long-polls.js";

const HOUR = 3600_000;

describe("QueueDO transactions: check-back", () => {
  it("raises a check to the producer group once the first check is due", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    const m = half("TXC", pg);
    await q.prepareHalf(mq, m, pg, Date.now() - 1000);
    // workerd may fire the (past) alarm on its own first; either way exactly one check is raised.
    await runDurableObjectAlarm(q);
    const checks = await holdCheckPoll(producerGroupObject(pg), 10, undefined, { maxWaitMs: 3000, account: "" });
    expect(checks).toEqual([
      {
        transactionId: "TXC",
        producerGroup: pg,
        messageQueue: mq,
        checkTimes: 1,
        message: {
          topic: mq.topic,
          brokerName: "broker-a",
          queueId: 0,
          queueOffset: -1,
          msgId: "TXC",
          offsetMsgId: "",
          tags: m.tags,
          keys: m.keys,
          properties: { ...m.properties, TRANSACTION_CHECK_TIMES: "1" },
          bornTimestamp: m.bornTimestamp,
          bornHost: m.bornHost,
          storeTimestamp: m.bornTimestamp,
          reconsumeTimes: 0,
          flag: 0,
          body: bytesToBase64(m.body),
        },
      },
    ]);
    expect(checks[0]!.message.properties.TRANSACTION_CHECK_TIMES).toBe("1");
    expect(await producerGroupObject(pg).pollChecks(10)).toEqual([]);

    // The next check waits a full interval; the message stays invisible meanwhile.
    const [info] = await q.listTransactions(undefined, 10);
    expect(info!.state).toBe("PENDING");
    expect(info!.checkTimes).toBe(1);
    expect(info!.nextCheckAt! - Date.now()).toBeGreaterThan(CHECK_INTERVAL_MS - 5000);
    expect(info!.nextCheckAt! - Date.now()).toBeLessThanOrEqual(CHECK_INTERVAL_MS);
    expect(await alarmOf(q)).toBe(info!.nextCheckAt);
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producerGroupObject(pg).pollChecks(10)).toEqual([]);

    // The producer answers the check: the stored message carries no check count or markers.
    expect(await q.endTransaction("TXC", pg, "COMMIT_MESSAGE")).toEqual({ transactionId: "TXC", state: "COMMITTED", queueOffset: 0 });
    const stored = (await q.getMessage(0))!.message;
    expect(stored).toEqual(visible(m));
    expect(stored.properties).toEqual({ user: "v", CHECK_IMMUNITY_TIME_IN_SECONDS: "6" });
  });

  it(`checks ${CHECK_MAX} times, then gives the transaction up`, async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("TXG", pg), pg, Date.now() + HOUR);
    const producers = producerGroupObject(pg);
    for (let i = 1; i <= CHECK_MAX; i++) {
      await makeChecksDue(q);
      expect(await runDurableObjectAlarm(q)).toBe(true);
      const checks = await producers.pollChecks(10);
      expect(checks.map((c) => [c.transactionId, c.checkTimes, c.message.properties.TRANSACTION_CHECK_TIMES])).toEqual([["TXG", i, String(i)]]);
      const [info] = await q.listTransactions(undefined, 10);
      expect(info!.state).toBe("PENDING");
      expect(info!.checkTimes).toBe(i);
      // Each check is followed by the next one an interval later.
      expect(await alarmOf(q)).toBe(info!.nextCheckAt);
    }
    // The check after the last one gives up instead of asking again.
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producers.pollChecks(10)).toEqual([]);
    expect(await q.listTransactions("PENDING", 10)).toEqual([]);
    const [given] = await q.listTransactions("GIVEN_UP", 10);
    expect(given).toEqual(givenUp("TXG", pg));
    expect(await halfRows(q)).toEqual([{ txid: "TXG", state: "GIVEN_UP", check_times: CHECK_MAX, extra_chunks: 0, len: 0 }]);
    // Given up counts as rolled back: a late COMMIT is refused, a late ROLLBACK agrees.
    const late = await rejection(q.endTransaction("TXG", pg, "COMMIT_MESSAGE"));
    expect(late.message).toBe("[TRANSACTION_ALREADY_ROLLED_BACK] transaction TXG was already rolled back");
    expect(await q.endTransaction("TXG", pg, "ROLLBACK_MESSAGE")).toEqual({ transactionId: "TXG", state: "GIVEN_UP", queueOffset: null });
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    // No more checks: the only alarm left is the one that forgets the decision.
    expect(await alarmOf(q)).toBe(given!.decidedAt! + DECIDED_RETENTION_MS);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producers.pollChecks(10)).toEqual([]);
  });

  it("sends the last allowed check when set to one short of the maximum", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("TXL", pg), pg, Date.now() + HOUR);
    await runInDurableObject(q, (_i, state) => {
      state.storage.sql.exec("UPDATE half SET check_times = ?, check_at = 0", CHECK_MAX - 1);
    });
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect((await producerGroupObject(pg).pollChecks(10)).map((c) => c.checkTimes)).toEqual([CHECK_MAX]);
    expect((await q.listTransactions(undefined, 1))[0]!.state).toBe("PENDING");
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producerGroupObject(pg).pollChecks(10)).toEqual([]);
    expect((await q.listTransactions(undefined, 1))[0]!.state).toBe("GIVEN_UP");
  });

  it("replaces an undelivered check with the newer one of the same transaction", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("TXR", pg), pg, Date.now() + HOUR);
    for (let i = 0; i < 3; i++) {
      await makeChecksDue(q);
      expect(await runDurableObjectAlarm(q)).toBe(true);
    }
    const checks = await producerGroupObject(pg).pollChecks(10);
    expect(checks.map((c) => [c.transactionId, c.checkTimes])).toEqual([["TXR", 3]]);
    expect(await producerGroupObject(pg).pollChecks(10)).toEqual([]);
  });

  it("sends each transaction's check to its own producer group, and none for decided ones", async () => {
    const { q, mq } = newQueue("X");
    const g1 = uniqueName("PG");
    const g2 = uniqueName("PG");
    await q.prepareHalf(mq, half("T1", g1), g1, Date.now() + HOUR);
    await q.prepareHalf(mq, half("T2", g2), g2, Date.now() + HOUR);
    await q.prepareHalf(mq, half("T3", g1), g1, Date.now() + HOUR);
    await q.prepareHalf(mq, half("T4", g1), g1, Date.now() + HOUR);
    await q.endTransaction("T4", g1, "ROLLBACK_MESSAGE");
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    const c1 = await producerGroupObject(g1).pollChecks(10);
    const c2 = await producerGroupObject(g2).pollChecks(10);
    expect(c1.map((c) => [c.transactionId, c.producerGroup, c.checkTimes]).sort()).toEqual([
      ["T1", g1, 1],
      ["T3", g1, 1],
    ]);
    expect(c2.map((c) => [c.transactionId, c.producerGroup, c.checkTimes])).toEqual([["T2", g2, 1]]);
    for (const c of [...c1, ...c2]) expect(c.messageQueue).toEqual(mq);
  });

  it("remembers the queue's identity across eviction for the checks it raises", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("TXE", pg), pg, Date.now() + HOUR);
    await evictDurableObject(q);
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    const checks = await producerGroupObject(pg).pollChecks(10);
    expect(checks).toHaveLength(1);
    expect(checks[0]!.messageQueue).toEqual(mq);
    expect(checks[0]!.message).toMatchObject({ topic: mq.topic, brokerName: mq.brokerName, queueId: mq.queueId, queueOffset: -1 });
  });
});
