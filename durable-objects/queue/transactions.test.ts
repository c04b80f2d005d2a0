/**
 * Transactions on a queue: half messages and decisions (transactions.ts), and check-back to the
 * producer group with its count, interval and give-up (transaction-check.ts), on exact clocks.
 */
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../protocol/base64.js";
import { encodeMessages } from "../../protocol/log-codec.js";
import type { MessageQueue, StoredMessage } from "../../protocol/message.js";
import type { ProducerGroupDO } from "../producer-group.js";
import type { QueueDO } from "../queue.js";
import { heldPull, rejection, waitForParked } from "../test-support.js";
import { holdCheckPoll } from "../../cluster/long-polls.js";

const MiB = 1024 * 1024;
const HOUR = 3600_000;
/** TRANSACTION_CHECK_MAX and TRANSACTION_CHECK_INTERVAL_MS of wrangler.toml. */
const CHECK_MAX = 15;
const CHECK_INTERVAL_MS = 60_000;
/** How long the queue remembers a decision (DECIDED_RETENTION_MS in queue/transactions.ts). */
const DECIDED_RETENTION_MS = HOUR;

/** A fresh queue object per call, named as the broker names them: every test gets its own storage. */
function queue(): { q: DurableObjectStub<QueueDO>; mq: MessageQueue } {
  const topic = `X-${crypto.randomUUID()}`;
  const mq: MessageQueue = { brokerName: "broker-a", topic, queueId: 0 };
  return { q: env.QUEUE.get(env.QUEUE.idFromName(`broker-a/${topic}/0`)), mq };
}

/** A producer group name no other test uses, so its ProducerGroupDO starts empty. */
function group(): string {
  return `PG-${crypto.randomUUID()}`;
}

function producerGroup(name: string): DurableObjectStub<ProducerGroupDO> {
  return env.PRODUCER_GROUP.get(env.PRODUCER_GROUP.idFromName(name));
}

const encoder = new TextEncoder();

/** A half message as the broker stores it: the transaction properties set, as RocketMQ does. */
function half(id: string, pgroup: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    msgId: id,
    tags: "TagT",
    keys: ["order-1", "k 2"],
    properties: { TRAN_MSG: "true", PGROUP: pgroup, user: "v", CHECK_IMMUNITY_TIME_IN_SECONDS: "6" },
    bornTimestamp: 1_700_000_000_123,
    bornHost: "10.0.0.2:4321",
    flag: 0,
    reconsumeTimes: 0,
    body: encoder.encode(`body of ${id}`),
    ...extra,
  };
}

/** The message as it becomes visible: the transaction markers are gone, everything else kept. */
function visible(m: StoredMessage): StoredMessage {
  const { TRAN_MSG: _t, PGROUP: _g, ...properties } = m.properties;
  return { ...m, properties };
}

function plain(i: number): StoredMessage {
  return { ...half(`P${i}`, "none"), properties: {}, tags: "", keys: [] };
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function getAlarm(q: DurableObjectStub<QueueDO>): Promise<number | null> {
  return runInDurableObject(q, (_i, state) => state.storage.getAlarm());
}

/** Makes every pending check due now, without waiting out the check interval. */
function makeChecksDue(q: DurableObjectStub<QueueDO>): Promise<void> {
  return runInDurableObject(q, (_i, state) => {
    state.storage.sql.exec("UPDATE half SET check_at = 0 WHERE state = 'PENDING'");
  });
}

function halfRows(q: DurableObjectStub<QueueDO>): Promise<Record<string, unknown>[]> {
  return runInDurableObject(q, (_i, state) =>
    state.storage.sql.exec("SELECT txid, state, check_times, extra_chunks, length(data) AS len FROM half ORDER BY txid").toArray(),
  );
}

function overflowCount(q: DurableObjectStub<QueueDO>): Promise<number> {
  return runInDurableObject(q, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM overflow").one().n);
}

const NOTHING = { pullStatus: "NO_NEW_MSG", nextBeginOffset: 0, minOffset: 0, maxOffset: 0, entries: [] };

describe("QueueDO transactions: decisions", () => {
  it("keeps a half message invisible until COMMIT, then appends it once without the transaction markers", async () => {
    const { q, mq } = queue();
    const pg = group();
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
    expect(await getAlarm(q)).toBe(firstCheckAt);

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
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    expect(await getAlarm(q)).toBe(firstCheckAt);
    // Either decision is still open.
    expect(await q.endTransaction("TX4", pg, "ROLLBACK_MESSAGE")).toEqual({ transactionId: "TX4", state: "ROLLED_BACK", queueOffset: null });
  });

  it("stores a half message once when prepared twice with the same msgId", async () => {
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    const { q, mq } = queue();
    const pg = group();
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
    expect(await producerGroup(pg).pollChecks(10)).toEqual([]);

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
    expect(given).toEqual({
      transactionId: "G",
      producerGroup: pg,
      state: "GIVEN_UP",
      bornTimestamp: expect.any(Number),
      checkTimes: CHECK_MAX,
      nextCheckAt: null,
      queueOffset: null,
      decidedAt: expect.any(Number),
    });
    expect(await q.pull({ offset: 0, maxNums: 32 })).toMatchObject({ pullStatus: "FOUND", maxOffset: 1 });
  });

  it("forgets decisions after the retention time, and only then", async () => {
    const { q, mq } = queue();
    const pg = group();
    await q.prepareHalf(mq, half("OLD", pg), pg, Date.now() + HOUR);
    await q.endTransaction("OLD", pg, "COMMIT_MESSAGE");
    const decidedAt = (await q.listTransactions("COMMITTED", 1))[0]!.decidedAt!;
    // The alarm left from the first check finds nothing due and re-arms for the forgetting.
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await getAlarm(q)).toBe(decidedAt + DECIDED_RETENTION_MS);
    expect(await q.listTransactions(undefined, 10)).toHaveLength(1);

    await runInDurableObject(q, (_i, state) => {
      state.storage.sql.exec("UPDATE half SET decided_at = decided_at - ?", DECIDED_RETENTION_MS + 1000);
    });
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await q.listTransactions(undefined, 10)).toEqual([]);
    expect(await getAlarm(q)).toBeNull();
    const gone = await rejection(q.endTransaction("OLD", pg, "COMMIT_MESSAGE"));
    expect(gone.message).toBe("[TRANSACTION_NOT_FOUND] no transaction OLD of this producer group on this queue (unknown or expired)");
    // The committed message itself stays.
    expect((await q.pull({ offset: 0, maxNums: 32 })).entries.map((e) => e.message.msgId)).toEqual(["OLD"]);
  });
});

describe("QueueDO transactions: check-back", () => {
  it("raises a check to the producer group once the first check is due", async () => {
    const { q, mq } = queue();
    const pg = group();
    const m = half("TXC", pg);
    await q.prepareHalf(mq, m, pg, Date.now() - 1000);
    // workerd may fire the (past) alarm on its own first; either way exactly one check is raised.
    await runDurableObjectAlarm(q);
    const checks = await holdCheckPoll(producerGroup(pg), 10, undefined, { maxWaitMs: 3000, account: "" });
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
    expect(await producerGroup(pg).pollChecks(10)).toEqual([]);

    // The next check waits a full interval; the message stays invisible meanwhile.
    const [info] = await q.listTransactions(undefined, 10);
    expect(info!.state).toBe("PENDING");
    expect(info!.checkTimes).toBe(1);
    expect(info!.nextCheckAt! - Date.now()).toBeGreaterThan(CHECK_INTERVAL_MS - 5000);
    expect(info!.nextCheckAt! - Date.now()).toBeLessThanOrEqual(CHECK_INTERVAL_MS);
    expect(await getAlarm(q)).toBe(info!.nextCheckAt);
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producerGroup(pg).pollChecks(10)).toEqual([]);

    // The producer answers the check: the stored message carries no check count or markers.
    expect(await q.endTransaction("TXC", pg, "COMMIT_MESSAGE")).toEqual({ transactionId: "TXC", state: "COMMITTED", queueOffset: 0 });
    const stored = (await q.getMessage(0))!.message;
    expect(stored).toEqual(visible(m));
    expect(stored.properties).toEqual({ user: "v", CHECK_IMMUNITY_TIME_IN_SECONDS: "6" });
  });

  it(`checks ${CHECK_MAX} times, then gives the transaction up`, async () => {
    const { q, mq } = queue();
    const pg = group();
    await q.prepareHalf(mq, half("TXG", pg), pg, Date.now() + HOUR);
    const producers = producerGroup(pg);
    for (let i = 1; i <= CHECK_MAX; i++) {
      await makeChecksDue(q);
      expect(await runDurableObjectAlarm(q)).toBe(true);
      const checks = await producers.pollChecks(10);
      expect(checks.map((c) => [c.transactionId, c.checkTimes, c.message.properties.TRANSACTION_CHECK_TIMES])).toEqual([["TXG", i, String(i)]]);
      const [info] = await q.listTransactions(undefined, 10);
      expect(info!.state).toBe("PENDING");
      expect(info!.checkTimes).toBe(i);
      // Each check is followed by the next one an interval later.
      expect(await getAlarm(q)).toBe(info!.nextCheckAt);
    }
    // The check after the last one gives up instead of asking again.
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producers.pollChecks(10)).toEqual([]);
    expect(await q.listTransactions("PENDING", 10)).toEqual([]);
    const [given] = await q.listTransactions("GIVEN_UP", 10);
    expect(given).toEqual({
      transactionId: "TXG",
      producerGroup: pg,
      state: "GIVEN_UP",
      bornTimestamp: expect.any(Number),
      checkTimes: CHECK_MAX,
      nextCheckAt: null,
      queueOffset: null,
      decidedAt: expect.any(Number),
    });
    expect(await halfRows(q)).toEqual([{ txid: "TXG", state: "GIVEN_UP", check_times: CHECK_MAX, extra_chunks: 0, len: 0 }]);
    // Given up counts as rolled back: a late COMMIT is refused, a late ROLLBACK agrees.
    const late = await rejection(q.endTransaction("TXG", pg, "COMMIT_MESSAGE"));
    expect(late.message).toBe("[TRANSACTION_ALREADY_ROLLED_BACK] transaction TXG was already rolled back");
    expect(await q.endTransaction("TXG", pg, "ROLLBACK_MESSAGE")).toEqual({ transactionId: "TXG", state: "GIVEN_UP", queueOffset: null });
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    // No more checks: the only alarm left is the one that forgets the decision.
    expect(await getAlarm(q)).toBe(given!.decidedAt! + DECIDED_RETENTION_MS);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producers.pollChecks(10)).toEqual([]);
  });

  it("sends the last allowed check when set to one short of the maximum", async () => {
    const { q, mq } = queue();
    const pg = group();
    await q.prepareHalf(mq, half("TXL", pg), pg, Date.now() + HOUR);
    await runInDurableObject(q, (_i, state) => {
      state.storage.sql.exec("UPDATE half SET check_times = ?, check_at = 0", CHECK_MAX - 1);
    });
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect((await producerGroup(pg).pollChecks(10)).map((c) => c.checkTimes)).toEqual([CHECK_MAX]);
    expect((await q.listTransactions(undefined, 1))[0]!.state).toBe("PENDING");
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await producerGroup(pg).pollChecks(10)).toEqual([]);
    expect((await q.listTransactions(undefined, 1))[0]!.state).toBe("GIVEN_UP");
  });

  it("replaces an undelivered check with the newer one of the same transaction", async () => {
    const { q, mq } = queue();
    const pg = group();
    await q.prepareHalf(mq, half("TXR", pg), pg, Date.now() + HOUR);
    for (let i = 0; i < 3; i++) {
      await makeChecksDue(q);
      expect(await runDurableObjectAlarm(q)).toBe(true);
    }
    const checks = await producerGroup(pg).pollChecks(10);
    expect(checks.map((c) => [c.transactionId, c.checkTimes])).toEqual([["TXR", 3]]);
    expect(await producerGroup(pg).pollChecks(10)).toEqual([]);
  });

  it("sends each transaction's check to its own producer group, and none for decided ones", async () => {
    const { q, mq } = queue();
    const g1 = group();
    const g2 = group();
    await q.prepareHalf(mq, half("T1", g1), g1, Date.now() + HOUR);
    await q.prepareHalf(mq, half("T2", g2), g2, Date.now() + HOUR);
    await q.prepareHalf(mq, half("T3", g1), g1, Date.now() + HOUR);
    await q.prepareHalf(mq, half("T4", g1), g1, Date.now() + HOUR);
    await q.endTransaction("T4", g1, "ROLLBACK_MESSAGE");
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    const c1 = await producerGroup(g1).pollChecks(10);
    const c2 = await producerGroup(g2).pollChecks(10);
    expect(c1.map((c) => [c.transactionId, c.producerGroup, c.checkTimes]).sort()).toEqual([
      ["T1", g1, 1],
      ["T3", g1, 1],
    ]);
    expect(c2.map((c) => [c.transactionId, c.producerGroup, c.checkTimes])).toEqual([["T2", g2, 1]]);
    for (const c of [...c1, ...c2]) expect(c.messageQueue).toEqual(mq);
  });

  it("remembers the queue's identity across eviction for the checks it raises", async () => {
    const { q, mq } = queue();
    const pg = group();
    await q.prepareHalf(mq, half("TXE", pg), pg, Date.now() + HOUR);
    await evictDurableObject(q);
    await makeChecksDue(q);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    const checks = await producerGroup(pg).pollChecks(10);
    expect(checks).toHaveLength(1);
    expect(checks[0]!.messageQueue).toEqual(mq);
    expect(checks[0]!.message).toMatchObject({ topic: mq.topic, brokerName: mq.brokerName, queueId: mq.queueId, queueOffset: -1 });
  });
});
