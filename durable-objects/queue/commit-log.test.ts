/**
 * Reads of the commit log by time and offset (commit-log.ts): searchOffset over rows with known
 * store times (which never go backwards, across restarts too) and getMessage out of range.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CommitLog } from "./commit-log.js";
import { clockPast, msg, newQueue } from "../test-support.js";

describe("QueueDO searchOffset", () => {
  it("finds the first offset stored at or after a timestamp", async () => {
    const { q } = newQueue();
    expect(await q.searchOffset(Date.now())).toBe(0);

    // Each append is stored once the clock has passed the one before.
    const r1 = await q.append([msg(0), msg(1), msg(2)]);
    await clockPast(r1.storeTimestamp);
    const r2 = await q.append([msg(3), msg(4)]);
    await clockPast(r2.storeTimestamp);
    const r3 = await q.append([msg(5)]);
    expect(r2.storeTimestamp).toBeGreaterThan(r1.storeTimestamp);
    expect(r3.storeTimestamp).toBeGreaterThan(r2.storeTimestamp);
    expect((await q.getMessage(4))?.storeTimestamp).toBe(r2.storeTimestamp);

    expect(await q.searchOffset(0)).toBe(0);
    expect(await q.searchOffset(r1.storeTimestamp - 1)).toBe(0);
    expect(await q.searchOffset(r1.storeTimestamp)).toBe(0);
    expect(await q.searchOffset(r1.storeTimestamp + 1)).toBe(3);
    expect(await q.searchOffset(r2.storeTimestamp)).toBe(3);
    expect(await q.searchOffset(r2.storeTimestamp + 1)).toBe(5);
    expect(await q.searchOffset(r3.storeTimestamp)).toBe(5);
    // Later than every message: maxOffset.
    expect(await q.searchOffset(r3.storeTimestamp + 1)).toBe(6);
    expect(await q.searchOffset(Date.now() + 3_600_000)).toBe(6);
  });

  it("searches many rows with known store times, and store times never go backwards", async () => {
    const { q } = newQueue();
    // Rows at offsets 0,2,3,6,7,... with chosen store times (including a repeat and a clock step back).
    const plan: Array<{ count: number; now: number }> = [
      { count: 2, now: 1000 },
      { count: 1, now: 2000 },
      { count: 3, now: 2000 },
      { count: 1, now: 1500 }, // clock went back: stored as 2000
      { count: 4, now: 5000 },
      { count: 1, now: 9000 },
    ];
    const stored = await runInDurableObject(q, (instance) => {
      const log = (instance as unknown as { log: CommitLog }).log;
      let i = 0;
      return plan.map((p) =>
        log.append(
          Array.from({ length: p.count }, () => msg(i++)),
          p.now,
        ),
      );
    });
    expect(stored).toEqual([
      { baseOffset: 0, storeTimestamp: 1000 },
      { baseOffset: 2, storeTimestamp: 2000 },
      { baseOffset: 3, storeTimestamp: 2000 },
      { baseOffset: 6, storeTimestamp: 2000 },
      { baseOffset: 7, storeTimestamp: 5000 },
      { baseOffset: 11, storeTimestamp: 9000 },
    ]);
    const cases: Array<[number, number]> = [
      [0, 0],
      [1000, 0],
      [1001, 2],
      [1999, 2],
      [2000, 2],
      [2001, 7],
      [4999, 7],
      [5000, 7],
      [5001, 11],
      [9000, 11],
      [9001, 12],
      [Number.MAX_SAFE_INTEGER, 12],
    ];
    for (const [ts, want] of cases) expect([ts, await q.searchOffset(ts)]).toEqual([ts, want]);
    await evictDurableObject(q);
    for (const [ts, want] of cases) expect([ts, await q.searchOffset(ts)]).toEqual([ts, want]);
    const stats = await q.stats();
    expect(stats.maxOffset).toBe(12);
    expect(stats.lastStoreTimestamp).toBe(9000);
    // The restarted object remembers the newest store time, so the clock still cannot go back.
    const later = await runInDurableObject(q, (instance) => (instance as unknown as { log: CommitLog }).log.append([msg(12)], 8000));
    expect(later).toEqual({ baseOffset: 12, storeTimestamp: 9000 });
    expect(await q.searchOffset(9000)).toBe(11);
    expect(await q.searchOffset(9001)).toBe(13);
  });
});

describe("QueueDO getMessage", () => {
  it("returns null for offsets it does not hold", async () => {
    const { q } = newQueue();
    expect(await q.getMessage(0)).toBeNull();
    await q.append([msg(0), msg(1)]);
    expect(await q.getMessage(2)).toBeNull();
    expect(await q.getMessage(100)).toBeNull();
    expect(await q.getMessage(-1)).toBeNull();
    expect((await q.getMessage(1))?.message.msgId).toBe("ID1");
  });
});

describe("CommitLog.rawRows", () => {
  it("serves the rows this object just appended from memory, exactly as SQLite holds them", async () => {
    const { q } = newQueue();
    await runInDurableObject(q, async (_i, state) => {
      const log = new CommitLog(state.storage.sql, state.storage);
      log.append([msg(0), { ...msg(1), keys: ["k1", "k2"] }], 1_000);
      log.append([msg(2)], 1_001);
      log.append([msg(3), msg(4)], 1_002);
      const fromDisk = new CommitLog(state.storage.sql, state.storage); // a fresh log: nothing in memory
      const reads = (l: CommitLog, from: number, rows = 256, bytes = 8 << 20) => l.rawRows(from, rows, bytes).map((r) => ({ ...r, data: [...r.data] }));
      expect(reads(log, 0)).toEqual(reads(fromDisk, 0));
      expect(reads(log, 0).map((r) => [r.baseOffset, r.count, r.storeTimestamp, r.keys !== null])).toEqual([
        [0, 2, 1_000, true],
        [2, 1, 1_001, false],
        [3, 2, 1_002, false],
      ]);
      expect(reads(log, 2)).toEqual(reads(fromDisk, 2));
      expect(reads(log, 0, 2).map((r) => r.baseOffset)).toEqual([0, 2]);
      // Past the first row, a push stays within its byte budget.
      expect(reads(log, 0, 256, 1).map((r) => r.baseOffset)).toEqual([0]);
      expect(reads(log, 5)).toEqual([]);
      // Rows truncated away are not served from memory either.
      log.truncate({ beforeOffset: 2, maxRows: 10 });
      expect(reads(log, 0).map((r) => r.baseOffset)).toEqual([2, 3]);
    });
  });
});
