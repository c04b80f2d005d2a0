/**
 * Transactions on a queue (transactions.ts, half-store.ts): half messages kept invisible until a
 * decision, decisions applied once and idempotently, listed by state, remembered for a while and
 * kept across eviction. Check-back is transaction-check.test.ts.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeMessages } from "../../protocol/log-codec.js";
import type { StoredMessage } from "../../protocol/message.js";
import type { QueueDO } from "../queue.js";
import {
  alarmOf,
  CHECK_MAX,
  DECIDED_RETENTION_MS,
  firstDiff,
  givenUp,
  half,
  halfRows,
  heldPull,
  newQueue,
  NOTHING,
  producerGroupObject,
  rejection,
  uniqueName,
  visible,
  waitForParked,
} from "../test-support.js";

const MiB = 1024 * 1024;
const HOUR = 3600_000;

const encoder = new TextEncoder();

function plain(i: number): StoredMessage {
  return { ...half(`P${i}`, "none"), properties: {}, tags: "", keys: [] };
}

function overflowCount(q: DurableObjectStub<QueueDO>): Promise<number> {
  return runInDurableObject(q, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM overflow").one().n);
}

describe("QueueDO transactions: decisions", () => {
  it("keeps a half message invisible until COMMIT, then appends it once without the transaction markers", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    const m = half("TX1", pg);
    expect((await q.append([plain(0)])).queueOffset).toBe(0);
    const firstCheckAt = Date.now() + HOUR;
    expect(await q.prepareHalf(mq, m, pg, firstCheckAt)).toBeUndefined();

    expect(await q.pull({ offset: 1, maxNums: 32 })).toEqual({ ...NOTHING, nextBeginOffset: 1, maxOffset: 1 });
    expect((await q.stats()).maxOffset).toBe(1);
    expect(await q.listTransactions(undefined, 10)).toEqual([
      {
        transactionId: "TX1",
        producerGroup: pg,
        state: "PENDING",
        bornTimestamp: expect.any(Number),
        checkTimes: 0,
        nextCheckAt: firstCheckAt,
        queueOffset: null,
        decidedAt: null,
      },
    ]);
    expect(await alarmOf(q)).toBe(firstCheckAt);

    const committed = await q.endTransaction("TX1", pg, "COMMIT_MESSAGE");
    expect(committed).toEqual({ transactionId: "TX1", state: "COMMITTED", queueOffset: 1 });
    const pulled = await q.pull({ offset: 0, maxNums: 32 });
    expect(pulled.pullStatus).toBe("FOUND");
    expect(pulled.entries.map((e) => [e.queueOffset, e.message.msgId])).toEqual([
      [0, "P0"],
      [1, "TX1"],
    ]);
    const stored = pulled.entries[1]!.message;
    expect(stored).toEqual(visible(m));
    expect(stored.properties).toEqual({ user: "v", CHECK_IMMUNITY_TIME_IN_SECONDS: "6" });
    expect("TRAN_MSG" in stored.properties).toBe(false);
    expect("PGROUP" in stored.properties).toBe(false);

    // Idempotent: the same decision answers the same result and stores nothing more.
    expect(await q.endTransaction("TX1", pg, "COMMIT_MESSAGE")).toEqual(committed);
    expect(await q.endTransaction("TX1", pg, "UNKNOW")).toEqual(committed);
    expect((await q.stats()).maxOffset).toBe(2);

    const contradiction = await rejection(q.endTransaction("TX1", pg, "ROLLBACK_MESSAGE"));
    expect(contradiction.message.startsWith("[TRANSACTION_ALREADY_COMMITTED] ")).toBe(true);
    expect(contradiction.message).toBe("[TRANSACTION_ALREADY_COMMITTED] transaction TX1 was already committed");
    expect((await q.stats()).maxOffset).toBe(2);

    const [info] = await q.listTransactions(undefined, 10);
    expect(info).toEqual({
      transactionId: "TX1",
      producerGroup: pg,
      state: "COMMITTED",
      bornTimestamp: expect.any(Number),
      checkTimes: 0,
      nextCheckAt: null,
      queueOffset: 1,
      decidedAt: expect.any(Number),
    });
    // A decided half message keeps no body.
    expect(await halfRows(q)).toEqual([{ txid: "TX1", state: "COMMITTED", check_times: 0, extra_chunks: 0, len: 0 }]);
  });

  it("discards a half message on ROLLBACK, idempotently, and refuses a later COMMIT", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("TX2", pg), pg, Date.now() + HOUR);
    expect(await q.endTransaction("TX2", pg, "ROLLBACK_MESSAGE")).toEqual({ transactionId: "TX2", state: "ROLLED_BACK", queueOffset: null });
    expect(await q.endTransaction("TX2", pg, "ROLLBACK_MESSAGE")).toEqual({ transactionId: "TX2", state: "ROLLED_BACK", queueOffset: null });
    expect(await q.endTransaction("TX2", pg, "UNKNOW")).toEqual({ transactionId: "TX2", state: "ROLLED_BACK", queueOffset: null });
    const error = await rejection(q.endTransaction("TX2", pg, "COMMIT_MESSAGE"));
    expect(error.message.startsWith("[TRANSACTION_ALREADY_ROLLED_BACK] ")).toBe(true);
    expect(error.message).toBe("[TRANSACTION_ALREADY_ROLLED_BACK] transaction TX2 was already rolled back");
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    expect((await q.stats()).messagesAppended).toBe(0);
    expect(await halfRows(q)).toEqual([{ txid: "TX2", state: "ROLLED_BACK", check_times: 0, extra_chunks: 0, len: 0 }]);
  });

  it("item 2: refuses unknown transactions, and answers another producer group's decision exactly as an unknown one, changing nothing", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    const m = half("TX3", pg);
    await q.prepareHalf(mq, m, pg, Date.now() + HOUR);
    const before = await q.listTransactions(undefined, 10);

    const unknown = await rejection(q.endTransaction("NOPE", pg, "COMMIT_MESSAGE"));
    expect(unknown.message.startsWith("[TRANSACTION_NOT_FOUND] ")).toBe(true);
    expect(unknown.message).toBe("[TRANSACTION_NOT_FOUND] no transaction NOPE of this producer group on this queue (unknown or expired)");
    expect((await rejection(q.endTransaction("NOPE", pg, "UNKNOW"))).message.startsWith("[TRANSACTION_NOT_FOUND] ")).toBe(true);

    // Another group learns nothing: not the owner, not even that the transaction exists.
    for (const decision of ["COMMIT_MESSAGE", "ROLLBACK_MESSAGE", "UNKNOW"] as const) {
      const wrong = await rejection(q.endTransaction("TX3", "OtherGroup", decision));
      const none = await rejection(q.endTransaction("TX0", "OtherGroup", decision));
      expect(wrong.message).toBe("[TRANSACTION_NOT_FOUND] no transaction TX3 of this producer group on this queue (unknown or expired)");
      expect(wrong.message.replace("TX3", "TX0")).toBe(none.message);
      expect(wrong.message).not.toContain(pg);
    }
    // A half message with the same id from another group is refused, without naming the owner.
    const again = await rejection(q.prepareHalf(mq, m, "OtherGroup", Date.now() + HOUR));
    expect(again.message).toBe("[TRANSACTION_GROUP_MISMATCH] msgId TX3 is taken by another transaction on this queue; send with a new msgId");

    expect(await q.listTransactions(undefined, 10)).toEqual(before);
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    // The rightful group still decides.
    expect(await q.endTransaction("TX3", pg, "COMMIT_MESSAGE")).toEqual({ transactionId: "TX3", state: "COMMITTED", queueOffset: 0 });
  });

  it("changes nothing on UNKNOW", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    const firstCheckAt = Date.now() + HOUR;
    await q.prepareHalf(mq, half("TX4", pg), pg, firstCheckAt);
    const before = await q.listTransactions(undefined, 10);
    const rowsBefore = await halfRows(q);
    expect(await q.endTransaction("TX4", pg, "UNKNOW")).toEqual({ transactionId: "TX4", state: "PENDING", queueOffset: null });
    expect(await q.endTransaction("TX4", pg, "UNKNOW")).toEqual({ transactionId: "TX4", state: "PENDING", queueOffset: null });
    expect(await q.listTransactions(undefined, 10)).toEqual(before);
    expect(before[0]!.nextCheckAt).toBe(firstCheckAt);
    expect(await halfRows(q)).toEqual(rowsBefore);
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    expect(await alarmOf(q)).toBe(firstCheckAt);
    // Either decision is still open.
    expect(await q.endTransaction("TX4", pg, "ROLLBACK_MESSAGE")).toEqual({ transactionId: "TX4", state: "ROLLED_BACK", queueOffset: null });
  });

  it("stores a half message once when prepared twice with the same msgId", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    const m = half("TX5", pg);
    const firstCheckAt = Date.now() + HOUR;
    await q.prepareHalf(mq, m, pg, firstCheckAt);
    // A retry (even one carrying a later check time or another body) keeps the first.
    await q.prepareHalf(mq, { ...m, body: encoder.encode("retry") }, pg, firstCheckAt + 5000);
    const list = await q.listTransactions(undefined, 10);
    expect(list).toHaveLength(1);
    expect(list[0]!.nextCheckAt).toBe(firstCheckAt);
    expect(list[0]!.checkTimes).toBe(0);
    expect(await q.endTransaction("TX5", pg, "COMMIT_MESSAGE")).toEqual({ transactionId: "TX5", state: "COMMITTED", queueOffset: 0 });
    // A late retry after the commit changes nothing either.
    await q.prepareHalf(mq, m, pg, firstCheckAt);
    expect((await q.listTransactions(undefined, 10)).map((t) => t.state)).toEqual(["COMMITTED"]);
    const pulled = await q.pull({ offset: 0, maxNums: 32 });
    expect(pulled.entries).toHaveLength(1);
    expect(pulled.entries[0]!.message).toEqual(visible(m));
    expect((await q.stats()).maxOffset).toBe(1);
  });

  it("commits a 3 MiB half message stored in overflow chunks, byte for byte", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    const body = new Uint8Array(3 * MiB);
    for (let i = 0; i < body.length; i++) body[i] = (i * 17 + 3) & 0xff;
    const m = half("TXBIG", pg, { body });
    const chunks = Math.ceil(encodeMessages([m]).length / MiB);
    expect(chunks).toBe(4);
    await q.prepareHalf(mq, m, pg, Date.now() + HOUR);
    expect(await halfRows(q)).toEqual([{ txid: "TXBIG", state: "PENDING", check_times: 0, extra_chunks: chunks - 1, len: MiB }]);
    expect(await overflowCount(q)).toBe(chunks - 1);
    // Survives a restart before the decision.
    await evictDurableObject(q);
    expect(await q.endTransaction("TXBIG", pg, "COMMIT_MESSAGE")).toEqual({ transactionId: "TXBIG", state: "COMMITTED", queueOffset: 0 });
    expect(await overflowCount(q)).toBe(0);
    await evictDurableObject(q);
    const entry = await q.getMessage(0);
    expect(entry!.message.body.length).toBe(body.length);
    expect(firstDiff(entry!.message.body, body)).toBe(-1);
    expect({ ...entry!.message, body: null }).toEqual({ ...visible(m), body: null });
  });

  it("wakes a parked pull when a transaction commits", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("TX6", pg), pg, Date.now() + HOUR);
    const pending = heldPull(q, { offset: 0, maxNums: 32, maxWaitMs: 5000 });
    await waitForParked(q, 1);
    const started = Date.now();
    await q.endTransaction("TX6", pg, "COMMIT_MESSAGE");
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.pullStatus).toBe("FOUND");
    expect(result.entries.map((e) => [e.queueOffset, e.message.msgId])).toEqual([[0, "TX6"]]);
  });

  it("keeps pending and decided transactions across eviction", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("A", pg), pg, Date.now() + HOUR);
    await q.prepareHalf(mq, half("B", pg), pg, Date.now() + HOUR);
    await q.endTransaction("A", pg, "COMMIT_MESSAGE");
    await evictDurableObject(q);
    expect((await q.listTransactions(undefined, 10)).map((t) => [t.transactionId, t.state]).sort()).toEqual([
      ["A", "COMMITTED"],
      ["B", "PENDING"],
    ]);
    expect(await q.endTransaction("A", pg, "COMMIT_MESSAGE")).toEqual({ transactionId: "A", state: "COMMITTED", queueOffset: 0 });
    expect(await q.endTransaction("B", pg, "COMMIT_MESSAGE")).toEqual({ transactionId: "B", state: "COMMITTED", queueOffset: 1 });
    expect((await q.pull({ offset: 0, maxNums: 32 })).entries.map((e) => e.message.msgId)).toEqual(["A", "B"]);
  });

  it("applies concurrent decisions once: one copy, one offset, the loser refused", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await Promise.all([q.prepareHalf(mq, half("CC", pg), pg, Date.now() + HOUR), q.prepareHalf(mq, half("CC", pg), pg, Date.now() + HOUR)]);
    expect(await q.listTransactions(undefined, 10)).toHaveLength(1);
    const commits = await Promise.all(Array.from({ length: 5 }, () => q.endTransaction("CC", pg, "COMMIT_MESSAGE")));
    for (const r of commits) expect(r).toEqual({ transactionId: "CC", state: "COMMITTED", queueOffset: 0 });
    expect((await q.stats()).maxOffset).toBe(1);

    await q.prepareHalf(mq, half("RC", pg), pg, Date.now() + HOUR);
    const [rollback, commit] = await Promise.allSettled([q.endTransaction("RC", pg, "ROLLBACK_MESSAGE"), q.endTransaction("RC", pg, "COMMIT_MESSAGE")]);
    // Calls are handled in arrival order: the rollback wins and the commit is refused.
    expect(rollback).toEqual({ status: "fulfilled", value: { transactionId: "RC", state: "ROLLED_BACK", queueOffset: null } });
    expect(commit.status).toBe("rejected");
    expect(((commit as PromiseRejectedResult).reason as Error).message).toBe("[TRANSACTION_ALREADY_ROLLED_BACK] transaction RC was already rolled back");
    expect((await q.stats()).maxOffset).toBe(1);
  });

  it("gives a commit racing concurrent sends its own offset in one contiguous run", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("MID", pg), pg, Date.now() + HOUR);
    const sends = Array.from({ length: 20 }, (_, i) => q.append([plain(i)]));
    const commit = q.endTransaction("MID", pg, "COMMIT_MESSAGE");
    const more = Array.from({ length: 20 }, (_, i) => q.append([plain(20 + i)]));
    const results = await Promise.all([...sends, ...more]);
    const committed = await commit;
    const offsets = [...results.map((r) => r.queueOffset), committed.queueOffset!].sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: 41 }, (_, i) => i));
    const entries = [...(await q.pull({ offset: 0, maxNums: 32 })).entries, ...(await q.pull({ offset: 32, maxNums: 32 })).entries];
    expect(entries.map((e) => e.queueOffset)).toEqual(Array.from({ length: 41 }, (_, i) => i));
    expect(entries[committed.queueOffset!]!.message.msgId).toBe("MID");
    results.forEach((r, i) => expect(entries[r.queueOffset]!.message.msgId).toBe(`P${i}`));
  });

  it("lists transactions by state, up to a limit", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    for (const id of ["C", "R", "P", "G"]) {
      await q.prepareHalf(mq, half(id, pg), pg, Date.now() + HOUR);
    }
    await q.endTransaction("C", pg, "COMMIT_MESSAGE");
    await q.endTransaction("R", pg, "ROLLBACK_MESSAGE");
    // G has been checked the maximum number of times: its next due check gives it up.
    await runInDurableObject(q, (_i, state) => {
      state.storage.sql.exec("UPDATE half SET check_times = ?, check_at = 0 WHERE txid = 'G'", CHECK_MAX);
    });
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producerGroupObject(pg).pollChecks(10)).toEqual([]);

    const ids = async (state: "PENDING" | "COMMITTED" | "ROLLED_BACK" | "GIVEN_UP" | undefined, limit = 10) =>
      (await q.listTransactions(state, limit)).map((t) => t.transactionId).sort();
    expect(await ids("PENDING")).toEqual(["P"]);
    expect(await ids("COMMITTED")).toEqual(["C"]);
    expect(await ids("ROLLED_BACK")).toEqual(["R"]);
    expect(await ids("GIVEN_UP")).toEqual(["G"]);
    expect(await ids(undefined)).toEqual(["C", "G", "P", "R"]);
    expect(await q.listTransactions(undefined, 2)).toHaveLength(2);
    expect(await q.listTransactions("PENDING", 0)).toEqual([]);
    const [given] = await q.listTransactions("GIVEN_UP", 10);
    expect(given).toEqual(givenUp("G", pg));
    expect(await q.pull({ offset: 0, maxNums: 32 })).toMatchObject({ pullStatus: "FOUND", maxOffset: 1 });
  });

  it("forgets decisions after the retention time, and only then", async () => {
    const { q, mq } = newQueue("X");
    const pg = uniqueName("PG");
    await q.prepareHalf(mq, half("OLD", pg), pg, Date.now() + HOUR);
    await q.endTransaction("OLD", pg, "COMMIT_MESSAGE");
    const decidedAt = (await q.listTransactions("COMMITTED", 1))[0]!.decidedAt!;
    // The alarm left from the first check finds nothing due and re-arms for the forgetting.
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await alarmOf(q)).toBe(decidedAt + DECIDED_RETENTION_MS);
    expect(await q.listTransactions(undefined, 10)).toHaveLength(1);

    await runInDurableObject(q, (_i, state) => {
      state.storage.sql.exec("UPDATE half SET decided_at = decided_at - ?", DECIDED_RETENTION_MS + 1000);
    });
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await q.listTransactions(undefined, 10)).toEqual([]);
    expect(await alarmOf(q)).toBeNull();
    const gone = await rejection(q.endTransaction("OLD", pg, "COMMIT_MESSAGE"));
    expect(gone.message).toBe("[TRANSACTION_NOT_FOUND] no transaction OLD of this producer group on this queue (unknown or expired)");
    // The committed message itself stays.
    expect((await q.pull({ offset: 0, maxNums: 32 })).entries.map((e) => e.message.msgId)).toEqual(["OLD"]);
  });
});
