/**
 * Delayed messages on a queue (delayed-delivery.ts, delayed-store.ts): held invisible and
 * counted per level, delivered by the alarm in due order with their offset given then, exactly
 * once, overflow bodies byte for byte, and kept across eviction with a lost alarm re-armed.
 * Messages are due an hour out, so workerd's own alarm stays away, and a test runs the alarm
 * itself with the clock at the due time (atTime); only the restart test waits for workerd's.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeMessages } from "../../protocol/log-codec.js";
import type { StoredMessage } from "../../protocol/message.js";
import type { QueueDO } from "../queue.js";
import { alarmOf, atTime, firstDiff, heldPull, newQueue, NOTHING, waitForParked } from "../test-support.js";

const MiB = 1024 * 1024;
const HOUR = 3600_000;

const encoder = new TextEncoder();

function msg(i: number, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    msgId: `ID${i}`,
    tags: "TagD",
    keys: [`k${i}`],
    properties: { DELAY: "3", user: `u${i}` },
    bornTimestamp: 1_700_000_000_000 + i,
    bornHost: "10.0.0.9:1234",
    flag: 0,
    reconsumeTimes: 0,
    body: encoder.encode(`delayed-${i}`),
    ...extra,
  };
}

/**
 * Returns the alarm the queue has set and moves it an hour out, so workerd's own alarm cannot
 * fire before the test has restarted the object.
 */
function holdAlarm(q: DurableObjectStub<QueueDO>): Promise<number | null> {
  return runInDurableObject(q, async (_i, state) => {
    const at = await state.storage.getAlarm();
    await state.storage.setAlarm(Date.now() + HOUR);
    return at;
  });
}

async function pullAll(q: DurableObjectStub<QueueDO>): Promise<{ queueOffset: number; storeTimestamp: number; message: StoredMessage }[]> {
  const r = await q.pull({ offset: 0, maxNums: 100 });
  return r.entries;
}

const EMPTY_STATS = { count: 0, byLevel: {}, nextDueAt: null };

describe("QueueDO delayed messages", () => {
  it("appends at once when the due time has already passed", async () => {
    const { q, mq } = newQueue("D");
    const a = await q.appendDelayed(mq, msg(0), Date.now() - 5000, 3);
    expect(a).toEqual({ queueOffset: 0, storeTimestamp: expect.any(Number) });
    const b = await q.appendDelayed(mq, msg(1), Date.now(), 1);
    expect(b).toEqual({ queueOffset: 1, storeTimestamp: expect.any(Number) });
    const pulled = await q.pull({ offset: 0, maxNums: 32 });
    expect(pulled.pullStatus).toBe("FOUND");
    expect(pulled.entries).toEqual([
      { queueOffset: 0, storeTimestamp: a!.storeTimestamp, message: msg(0) },
      { queueOffset: 1, storeTimestamp: b!.storeTimestamp, message: msg(1) },
    ]);
    expect(await q.delayedStats()).toEqual(EMPTY_STATS);
    expect(await alarmOf(q)).toBeNull();
  });

  it("keeps a future message invisible, counts it per level and arms the alarm at its due time", async () => {
    const { q, mq } = newQueue("D");
    const dueAt = Date.now() + HOUR;
    expect(await q.appendDelayed(mq, msg(0), dueAt, 2)).toBeNull();
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    const stats = await q.stats();
    expect(stats.maxOffset).toBe(0);
    expect(stats.messagesAppended).toBe(0);
    expect(await q.delayedStats()).toEqual({ count: 1, byLevel: { "2": 1 }, nextDueAt: dueAt });
    expect(await alarmOf(q)).toBe(dueAt);

    // A later message leaves the alarm where it is; an earlier one moves it earlier.
    expect(await q.appendDelayed(mq, msg(1), dueAt + 1000, 5)).toBeNull();
    expect(await q.appendDelayed(mq, msg(2), dueAt + 2000, 2)).toBeNull();
    expect(await alarmOf(q)).toBe(dueAt);
    const earlier = dueAt - HOUR / 2;
    expect(await q.appendDelayed(mq, msg(3), earlier, 0)).toBeNull();
    expect(await alarmOf(q)).toBe(earlier);
    expect(await q.delayedStats()).toEqual({ count: 4, byLevel: { "0": 1, "2": 2, "5": 1 }, nextDueAt: earlier });

    // An alarm that runs before anything is due delivers nothing and re-arms at the earliest.
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect((await q.stats()).maxOffset).toBe(0);
    expect(await q.delayedStats()).toEqual({ count: 4, byLevel: { "0": 1, "2": 2, "5": 1 }, nextDueAt: earlier });
    expect(await alarmOf(q)).toBe(earlier);
  });

  it("delivers a due message from the alarm, giving it its offset then, exactly once", async () => {
    const { q, mq } = newQueue("D");
    expect((await q.append([msg(100)])).queueOffset).toBe(0);
    const dueAt = Date.now() + HOUR;
    expect(await q.appendDelayed(mq, msg(1), dueAt, 1)).toBeNull();
    expect(await alarmOf(q)).toBe(dueAt);
    // A send after the delayed one takes the next offset: the delayed message has none yet.
    expect((await q.append([msg(101)])).queueOffset).toBe(1);
    expect((await q.pull({ offset: 2, maxNums: 32 })).pullStatus).toBe("NO_NEW_MSG");
    expect(await q.delayedStats()).toEqual({ count: 1, byLevel: { "1": 1 }, nextDueAt: dueAt });

    expect(await atTime(dueAt, () => runDurableObjectAlarm(q))).toBe(true);
    const pulled = await q.pull({ offset: 2, maxNums: 32 });
    expect(pulled.pullStatus).toBe("FOUND");
    expect(pulled.nextBeginOffset).toBe(3);
    expect(pulled.maxOffset).toBe(3);
    expect(pulled.entries).toHaveLength(1);
    expect(pulled.entries[0]!.queueOffset).toBe(2);
    expect(pulled.entries[0]!.message).toEqual(msg(1));
    expect(pulled.entries[0]!.storeTimestamp).toBeGreaterThanOrEqual(dueAt);
    expect(await q.delayedStats()).toEqual(EMPTY_STATS);
    // Nothing left to do: no alarm.
    expect(await alarmOf(q)).toBeNull();

    // At-least-once alarms: a second run (scheduled or a retried handler) delivers nothing again.
    expect(await runDurableObjectAlarm(q)).toBe(false);
    await runInDurableObject(q, (instance) => instance.alarm());
    await runInDurableObject(q, (instance) => instance.alarm());
    const after = await pullAll(q);
    expect(after.map((e) => e.message.msgId)).toEqual(["ID100", "ID101", "ID1"]);
    expect((await q.stats()).maxOffset).toBe(3);
    const rows = await runInDurableObject(q, (_i, state) => ({
      delayed: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delayed").one().n,
      overflow: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM overflow").one().n,
    }));
    expect(rows).toEqual({ delayed: 0, overflow: 0 });
    // And the delivery is durable.
    await evictDurableObject(q);
    expect((await pullAll(q)).map((e) => [e.queueOffset, e.message.msgId])).toEqual([
      [0, "ID100"],
      [1, "ID101"],
      [2, "ID1"],
    ]);
    expect(await q.delayedStats()).toEqual(EMPTY_STATS);
  });

  it("wakes a parked pull when the alarm delivers", async () => {
    const { q, mq } = newQueue("D");
    const dueAt = Date.now() + HOUR;
    expect(await q.appendDelayed(mq, msg(7), dueAt, 1)).toBeNull();
    expect(await alarmOf(q)).toBe(dueAt);
    const pending = heldPull(q, { offset: 0, maxNums: 32, maxWaitMs: 5000 });
    await waitForParked(q, 1);
    const started = Date.now();
    expect(await atTime(dueAt, () => runDurableObjectAlarm(q))).toBe(true);
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.pullStatus).toBe("FOUND");
    expect(result.entries.map((e) => [e.queueOffset, e.message.msgId])).toEqual([[0, "ID7"]]);
    expect((await q.stats()).parkedPulls).toBe(0);
  });

  it("delivers several due messages in due order, whatever order they were sent in", async () => {
    const { q, mq } = newQueue("D");
    const base = Date.now() + HOUR / 2;
    // Sent in the order 1, 2, 3, 4, 5; due in the order 2, 4 (same time as 2, sent later), 3, 1; 5 is not due.
    const far = Date.now() + HOUR;
    const sends: [number, number, number][] = [
      [1, base + 60, 3],
      [2, base, 1],
      [3, base + 30, 2],
      [4, base, 1],
      [5, far, 4],
    ];
    for (const [i, dueAt, level] of sends) expect(await q.appendDelayed(mq, msg(i), dueAt, level)).toBeNull();
    expect(await q.delayedStats()).toEqual({ count: 5, byLevel: { "1": 2, "2": 1, "3": 1, "4": 1 }, nextDueAt: base });
    expect(await alarmOf(q)).toBe(base);

    expect(await atTime(base + 60, () => runDurableObjectAlarm(q))).toBe(true);
    const entries = await pullAll(q);
    expect(entries.map((e) => [e.queueOffset, e.message.msgId])).toEqual([
      [0, "ID2"],
      [1, "ID4"],
      [2, "ID3"],
      [3, "ID1"],
    ]);
    for (const e of entries) expect(e.message).toEqual(msg(Number(e.message.msgId.slice(2))));
    // The one not yet due stays, and the alarm now points at it.
    expect(await q.delayedStats()).toEqual({ count: 1, byLevel: { "4": 1 }, nextDueAt: far });
    expect(await alarmOf(q)).toBe(far);
  });

  it("stores a 3 MiB delayed body in overflow chunks and delivers it byte for byte", async () => {
    const { q, mq } = newQueue("D");
    const body = new Uint8Array(3 * MiB);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    const big = msg(9, { body });
    const encodedLength = encodeMessages([big]).length;
    const chunks = Math.ceil(encodedLength / MiB);
    expect(chunks).toBe(4);

    const dueAt = Date.now() + HOUR;
    expect(await q.appendDelayed(mq, big, dueAt, 4)).toBeNull();
    expect(await alarmOf(q)).toBe(dueAt);
    const stored = await runInDurableObject(q, (_i, state) => ({
      delayed: state.storage.sql.exec("SELECT due_at, seq, level, extra_chunks, length(data) AS len FROM delayed").toArray(),
      overflow: state.storage.sql.exec("SELECT owner, chunk, length(data) AS len FROM overflow ORDER BY chunk").toArray(),
    }));
    expect(stored.delayed).toEqual([{ due_at: dueAt, seq: 1, level: 4, extra_chunks: chunks - 1, len: MiB }]);
    expect(stored.overflow).toEqual([
      { owner: `d:${dueAt}:1`, chunk: 1, len: MiB },
      { owner: `d:${dueAt}:1`, chunk: 2, len: MiB },
      { owner: `d:${dueAt}:1`, chunk: 3, len: encodedLength - 3 * MiB },
    ]);
    expect(await q.delayedStats()).toEqual({ count: 1, byLevel: { "4": 1 }, nextDueAt: dueAt });

    expect(await atTime(dueAt, () => runDurableObjectAlarm(q))).toBe(true);
    const after = await runInDurableObject(q, (_i, state) => ({
      delayed: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delayed").one().n,
      overflow: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM overflow").one().n,
      log: state.storage.sql.exec("SELECT base_offset, count, extra_chunks FROM log").toArray(),
    }));
    expect(after).toEqual({ delayed: 0, overflow: 0, log: [{ base_offset: 0, count: 1, extra_chunks: chunks - 1 }] });
    expect(await q.delayedStats()).toEqual(EMPTY_STATS);

    // Read back from SQLite, not from the row cache.
    await evictDurableObject(q);
    const entry = await q.getMessage(0);
    expect(entry).not.toBeNull();
    expect(entry!.queueOffset).toBe(0);
    expect(entry!.message.body.length).toBe(3 * MiB);
    expect(firstDiff(entry!.message.body, body)).toBe(-1);
    expect({ ...entry!.message, body: null }).toEqual({ ...big, body: null });
    expect((await q.stats()).maxOffset).toBe(1);
  });

  it("keeps delayed messages across eviction, re-arms a lost alarm, and delivers after restart", async () => {
    const { q, mq } = newQueue("D");
    const later = Date.now() + HOUR;
    const soon = Date.now() + 800;
    expect(await q.appendDelayed(mq, msg(1), later, 3)).toBeNull();
    expect(await q.appendDelayed(mq, msg(2), soon, 1)).toBeNull();
    // The alarm is pushed past both due times, then the object restarts: it must point the
    // alarm back at the earliest due message on its own.
    expect(await holdAlarm(q)).toBe(soon);
    await evictDurableObject(q);
    expect(await q.delayedStats()).toEqual({ count: 2, byLevel: { "1": 1, "3": 1 }, nextDueAt: soon });
    expect(await alarmOf(q)).toBe(soon);
    expect((await q.stats()).maxOffset).toBe(0);

    // workerd's own alarm fires at `soon` and wakes this pull.
    const pulled = await heldPull(q, { offset: 0, maxNums: 32, maxWaitMs: 5000 });
    expect(pulled.pullStatus).toBe("FOUND");
    expect(pulled.entries.map((e) => [e.queueOffset, e.message.msgId])).toEqual([[0, "ID2"]]);
    expect(pulled.entries[0]!.message).toEqual(msg(2));
    expect(await q.delayedStats()).toEqual({ count: 1, byLevel: { "3": 1 }, nextDueAt: later });
    expect(await alarmOf(q)).toBe(later);

    // A lost alarm (deleted outright) is set again when the object starts.
    await runInDurableObject(q, (_i, state) => state.storage.deleteAlarm());
    expect(await alarmOf(q)).toBeNull();
    await evictDurableObject(q);
    expect(await q.delayedStats()).toEqual({ count: 1, byLevel: { "3": 1 }, nextDueAt: later });
    expect(await alarmOf(q)).toBe(later);

    // Make the remaining message due (its body has no overflow rows, so its key may move) and deliver it.
    await runInDurableObject(q, (_i, state) => {
      state.storage.sql.exec("UPDATE delayed SET due_at = due_at - ?", 2 * HOUR);
    });
    expect(await runDurableObjectAlarm(q)).toBe(true);
    await evictDurableObject(q);
    expect((await pullAll(q)).map((e) => [e.queueOffset, e.message.msgId])).toEqual([
      [0, "ID2"],
      [1, "ID1"],
    ]);
    expect(await q.delayedStats()).toEqual(EMPTY_STATS);
    expect(await alarmOf(q)).toBeNull();
  });
});
