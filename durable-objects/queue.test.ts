/**
 * The queue object as a whole (queue.ts): a purge empties every piece at once and releases
 * parked pulls, and messages and offsets survive eviction. Each concept's own tests sit beside
 * its piece in queue/ (group-commit, pull, long-poll, consume-offsets, commit-log, ...).
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { clockPast, firstDiff, heldPull, msg, newQueue, NOTHING, waitForParked } from "./test-support.js";

const MiB = 1024 * 1024;

describe("QueueDO purge", () => {
  it("empties the queue, drops offsets and restarts at 0", async () => {
    const { q } = newQueue();
    await q.append([msg(0), msg(1), msg(2)]);
    await q.append([msg(3, { body: new Uint8Array(2 * MiB).fill(7) })]);
    await q.commitOffset("G", 3);
    await q.purge();

    const stats = await q.stats();
    expect(stats.minOffset).toBe(0);
    expect(stats.maxOffset).toBe(0);
    expect(stats.lastStoreTimestamp).toBe(0);
    expect(await q.getMessage(0)).toBeNull();
    expect(await q.fetchOffset("G")).toEqual({ offset: 0, committed: false });
    expect(await q.pull({ offset: 0, maxNums: 32 })).toEqual(NOTHING);
    const rows = await runInDurableObject(q, (_i, state) => ({
      log: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM log").one().n,
      chunks: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM log_chunk").one().n,
      offsets: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM consumer_offset").one().n,
    }));
    expect(rows).toEqual({ log: 0, chunks: 0, offsets: 0 });

    // New messages start at 0 again, and old ones do not come back from any cache.
    expect((await q.append([msg(10)])).queueOffset).toBe(0);
    expect((await q.append([msg(11), msg(12)])).queueOffset).toBe(1);
    const pulled = await q.pull({ offset: 0, maxNums: 32 });
    expect(pulled.entries.map((e) => e.message.msgId)).toEqual(["ID10", "ID11", "ID12"]);
    expect(pulled.nextBeginOffset).toBe(3);

    await evictDurableObject(q);
    expect((await q.stats()).maxOffset).toBe(3);
    expect((await q.getMessage(0))?.message.msgId).toBe("ID10");
    expect(await q.getMessage(3)).toBeNull();
    expect(await q.fetchOffset("G")).toEqual({ offset: 0, committed: false });
  });

  it("releases parked pulls, which then see the offset is gone", async () => {
    const { q } = newQueue();
    await q.append([msg(0), msg(1), msg(2)]);
    const started = Date.now();
    const pending = heldPull(q, { offset: 3, maxNums: 32, maxWaitMs: 5000 });
    await waitForParked(q, 1);
    await q.purge();
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toEqual({ pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: 0, minOffset: 0, maxOffset: 0, entries: [] });
  });
});

describe("QueueDO durability", () => {
  it("keeps messages and consumer offsets across eviction", async () => {
    const { q } = newQueue();
    const r0 = await q.append([msg(0, { tags: "TagA", keys: ["k"] })]);
    await clockPast(r0.storeTimestamp); // the next append is stored later
    const r1 = await q.append([msg(1), msg(2, { body: Uint8Array.from({ length: 256 }, (_, i) => i) })]);
    expect(r1.storeTimestamp).toBeGreaterThan(r0.storeTimestamp);
    await q.commitOffset("G", 2);
    const before = await q.pull({ offset: 0, maxNums: 32 });

    await evictDurableObject(q);

    const stats = await q.stats();
    expect(stats.minOffset).toBe(0);
    expect(stats.maxOffset).toBe(3);
    expect(stats.lastStoreTimestamp).toBe(r1.storeTimestamp);
    expect(await q.fetchOffset("G")).toEqual({ offset: 2, committed: true });
    const after = await q.pull({ offset: 0, maxNums: 32 });
    expect(after).toEqual(before);
    expect(after.entries.map((e) => e.storeTimestamp)).toEqual([r0.storeTimestamp, r1.storeTimestamp, r1.storeTimestamp]);
    expect(after.entries[0]!.message.tags).toBe("TagA");
    expect(after.entries[0]!.message.keys).toEqual(["k"]);
    expect(
      firstDiff(
        after.entries[2]!.message.body,
        Uint8Array.from({ length: 256 }, (_, i) => i),
      ),
    ).toBe(-1);

    // Appends continue where the log left off.
    expect((await q.append([msg(3)])).queueOffset).toBe(3);
    await evictDurableObject(q);
    expect((await q.getMessage(3))?.message.msgId).toBe("ID3");
    expect((await q.stats()).maxOffset).toBe(4);
    expect(await q.searchOffset(r1.storeTimestamp)).toBe(1);
  });
});
