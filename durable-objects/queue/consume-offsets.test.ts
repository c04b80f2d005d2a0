/**
 * Consume offsets on a queue (consume-offsets.ts): commits and fetches per group, the
 * OFFSET_ILLEGAL bound, admin resets with the sequence a member's commit must have seen, and
 * progress; alone, with a clock the test sets, the rule by which a slave keeps its own newer
 * commit over an older one its master pushes. Replication of offsets between real objects is
 * replication.ha.test.ts.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { QueueDO } from "../queue.js";
import { clockPast, commitAs, msg, newQueue, notOwner, staleReset, uniqueName } from "../test-support.js";
import { CommitLog } from "./commit-log.js";
import { ConsumeOffsets } from "./consume-offsets.js";
import { Owners } from "./owners.js";

// evictDurableObject() hangs in this harness once an object has thrown from an RPC method, so
// tests evict an object before any of its calls is refused.

describe("QueueDO consumer offsets", () => {
  it("starts uncommitted at 0 and returns what was committed", async () => {
    const { q } = newQueue();
    expect(await q.fetchOffset("G1")).toEqual({ offset: 0, committed: false });
    await q.append([msg(0), msg(1), msg(2), msg(3)]);
    expect(await q.fetchOffset("G1")).toEqual({ offset: 0, committed: false });

    await q.commitOffset("G1", 3);
    expect(await q.fetchOffset("G1")).toEqual({ offset: 3, committed: true });
    // Groups are independent.
    expect(await q.fetchOffset("G2")).toEqual({ offset: 0, committed: false });
    await q.commitOffset("G2", 1);
    expect(await q.fetchOffset("G2")).toEqual({ offset: 1, committed: true });
    expect(await q.fetchOffset("G1")).toEqual({ offset: 3, committed: true });

    // A later commit replaces the earlier one, backwards too; maxOffset itself is allowed.
    await q.commitOffset("G1", 4);
    expect(await q.fetchOffset("G1")).toEqual({ offset: 4, committed: true });
    await q.commitOffset("G1", 0);
    expect(await q.fetchOffset("G1")).toEqual({ offset: 0, committed: true });
  });

  it("allows committing 0 on an empty queue", async () => {
    const { q } = newQueue();
    await q.commitOffset("G", 0);
    expect(await q.fetchOffset("G")).toEqual({ offset: 0, committed: true });
  });

  it("refuses a commit beyond maxOffset with OFFSET_ILLEGAL and keeps the old value", async () => {
    const { q } = newQueue();
    await q.append([msg(0), msg(1), msg(2)]);
    await q.commitOffset("G", 2);
    let error: unknown;
    try {
      await q.commitOffset("G", 4);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message.startsWith("[OFFSET_ILLEGAL]")).toBe(true);
    expect(message).toBe("[OFFSET_ILLEGAL] offset 4 is beyond maxOffset 3");
    expect(await q.fetchOffset("G")).toEqual({ offset: 2, committed: true });

    let fresh: unknown;
    try {
      await q.commitOffset("H", 100);
    } catch (e) {
      fresh = e;
    }
    expect((fresh as Error).message).toBe("[OFFSET_ILLEGAL] offset 100 is beyond maxOffset 3");
    expect(await q.fetchOffset("H")).toEqual({ offset: 0, committed: false });
  });
});

describe("QueueDO offset reset and progress", () => {
  /** Three rows stored at distinct times: [m0] at t0, [m1, m2] at t1, [m3] at t2. */
  async function threeRows(q: DurableObjectStub<QueueDO>): Promise<[number, number, number]> {
    const t0 = (await q.append([msg(0)])).storeTimestamp;
    await clockPast(t0);
    const t1 = (await q.append([msg(1), msg(2)])).storeTimestamp;
    await clockPast(t1 + 1); // a time strictly between t1 and t2 exists
    const t2 = (await q.append([msg(3)])).storeTimestamp;
    expect(t0).toBeLessThan(t1);
    expect(t1 + 1).toBeLessThan(t2);
    return [t0, t1, t2];
  }

  it("resetOffset moves the offset to the first message stored at or after the time", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    const [t0, t1, t2] = await threeRows(q);
    expect(await q.resetOffset(g, t1, 1)).toBe(1);
    expect(await q.fetchOffset(g)).toEqual({ offset: 1, committed: true });
    expect(await q.resetOffset(g, t1 + 1, 1)).toBe(3);
    expect(await q.fetchOffset(g)).toEqual({ offset: 3, committed: true });
    expect(await q.resetOffset(g, t0, 1)).toBe(0);
    expect(await q.resetOffset(g, 0, 1)).toBe(0);
    expect(await q.resetOffset(g, t2, 1)).toBe(3);
    expect(await q.resetOffset(g, t2 + 1, 1)).toBe(4);
    expect((await q.progress(g)).committed).toBe(4);
  });

  it("refuses a commit that has not seen the latest reset with STALE_OFFSET_RESET", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    const [, t1] = await threeRows(q);
    await q.commitOffset(g, 4, { clientId: "A", generation: 0, offsetResetSeq: 0 });
    expect(await q.resetOffset(g, t1, 2)).toBe(1);
    expect(await commitAs(q, g, 4, { clientId: "A", generation: 0, offsetResetSeq: 1 })).toBe(staleReset(g));
    expect(await commitAs(q, g, 4, { clientId: "A", generation: 0, offsetResetSeq: 0 })).toBe(staleReset(g));
    expect(await q.fetchOffset(g)).toEqual({ offset: 1, committed: true });
    // A member that saw the reset commits again.
    expect(await commitAs(q, g, 2, { clientId: "A", generation: 0, offsetResetSeq: 2 })).toBe("OK");
    expect(await commitAs(q, g, 3, { clientId: "A", generation: 0, offsetResetSeq: 3 })).toBe("OK");
    expect(await q.fetchOffset(g)).toEqual({ offset: 3, committed: true });
    // A commit that does not state a sequence, or carries no fence, is not checked.
    expect(await commitAs(q, g, 2, { clientId: "A", generation: 0 })).toBe("OK");
    expect(await commitAs(q, g, 1)).toBe("OK");
    expect(await q.fetchOffset(g)).toEqual({ offset: 1, committed: true });
    // A reset with an older sequence moves the offset but never lowers the sequence.
    expect(await q.resetOffset(g, 0, 1)).toBe(0);
    expect(await q.fetchOffset(g)).toEqual({ offset: 0, committed: true });
    expect(await commitAs(q, g, 4, { clientId: "A", generation: 0, offsetResetSeq: 1 })).toBe(staleReset(g));
    expect(await commitAs(q, g, 4, { clientId: "A", generation: 0, offsetResetSeq: 2 })).toBe("OK");
    // A reset of a group that never committed creates its offset with the sequence.
    const fresh = uniqueName("G");
    expect(await q.resetOffset(fresh, t1, 5)).toBe(1);
    expect(await commitAs(q, fresh, 2, { clientId: "A", generation: 0, offsetResetSeq: 4 })).toBe(staleReset(fresh));
    expect(await commitAs(q, fresh, 2, { clientId: "A", generation: 0, offsetResetSeq: 5 })).toBe("OK");
  });

  it("stores the reset sequence: it holds after eviction", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    const [, t1] = await threeRows(q);
    expect(await q.resetOffset(g, t1, 5)).toBe(1);
    await evictDurableObject(q);
    expect(await q.fetchOffset(g)).toEqual({ offset: 1, committed: true });
    expect(await commitAs(q, g, 3, { clientId: "A", generation: 0, offsetResetSeq: 4 })).toBe(staleReset(g));
    expect(await commitAs(q, g, 3, { clientId: "A", generation: 0, offsetResetSeq: 5 })).toBe("OK");
    expect(await q.fetchOffset(g)).toEqual({ offset: 3, committed: true });
  });

  it("checks the owner before the reset sequence, and the offset bound before both", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await threeRows(q);
    await q.setOwner(g, "A", 1);
    await q.resetOffset(g, 0, 2);
    expect(await commitAs(q, g, 1, { clientId: "B", generation: 1, offsetResetSeq: 2 })).toBe(notOwner(g, 1));
    expect(await commitAs(q, g, 1, { clientId: "A", generation: 1, offsetResetSeq: 1 })).toBe(staleReset(g));
    expect(await commitAs(q, g, 5, { clientId: "B", generation: 1, offsetResetSeq: 0 })).toBe("[OFFSET_ILLEGAL] offset 5 is beyond maxOffset 4");
    expect(await commitAs(q, g, 4, { clientId: "A", generation: 1, offsetResetSeq: 2 })).toBe("OK");
    expect(await q.fetchOffset(g)).toEqual({ offset: 4, committed: true });
  });

  it("progress(group) reports min, max, the committed offset (-1 when none) and the last store time", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    expect(await q.progress(g)).toEqual({ minOffset: 0, maxOffset: 0, committed: -1, lastStoreTimestamp: 0, inflight: 0 });
    const [, , t2] = await threeRows(q);
    expect(await q.progress(g)).toEqual({ minOffset: 0, maxOffset: 4, committed: -1, lastStoreTimestamp: t2, inflight: 0 });
    // fetchOffset answers 0 for an unknown group on a young queue; progress still says "none".
    expect(await q.fetchOffset(g)).toEqual({ offset: 0, committed: false });
    await q.commitOffset(g, 3);
    expect(await q.progress(g)).toEqual({ minOffset: 0, maxOffset: 4, committed: 3, lastStoreTimestamp: t2, inflight: 0 });
    await q.commitOffset(g, 0);
    expect((await q.progress(g)).committed).toBe(0);
    expect((await q.progress(uniqueName("G"))).committed).toBe(-1);
  });
});

describe("ConsumeOffsets alone", () => {
  it("keeps a commit the slave took over an older pushed offset, and takes a pushed one at least as new", async () => {
    await runInDurableObject(newQueue().q, (_i, state) => {
      const sql = state.storage.sql;
      const clock = { now: 5000 };
      const offsets = new ConsumeOffsets(sql, new CommitLog(sql, state.storage), new Owners(sql), () => clock.now);
      offsets.store("G", 7); // the slave's own commit, at 5000
      offsets.storeReplicated("G", 3, 4999); // the master's, from before it: kept out
      expect(offsets.fetch("G")).toEqual({ offset: 7, committed: true });
      offsets.storeReplicated("G", 9, 5000);
      expect(offsets.fetch("G")).toEqual({ offset: 9, committed: true });
      // A master from before updatedAt existed is taken as it is, stamped with the slave's clock.
      clock.now = 6000;
      offsets.storeReplicated("G", 2, undefined);
      expect(offsets.fetch("G")).toEqual({ offset: 2, committed: true });
      // A group the slave never saw takes the pushed offset with the master's time.
      offsets.storeReplicated("H", 4, 10);
      expect(offsets.read({ groups: ["G", "H", "never"] }, 10)).toEqual([
        { group: "G", offset: 2, updatedAt: 6000 },
        { group: "H", offset: 4, updatedAt: 10 },
      ]);
    });
  });

  it("reads every group page by page in group order, for a replication push", async () => {
    await runInDurableObject(newQueue().q, (_i, state) => {
      const sql = state.storage.sql;
      const offsets = new ConsumeOffsets(sql, new CommitLog(sql, state.storage), new Owners(sql), () => 1);
      for (const g of ["c", "a", "d", "b", "e"]) offsets.store(g, g.charCodeAt(0));
      const first = offsets.read({ after: "" }, 2);
      const second = offsets.read({ after: first[first.length - 1]!.group }, 2);
      const third = offsets.read({ after: second[second.length - 1]!.group }, 2);
      expect([first, second, third].map((page) => page.map((o) => o.group))).toEqual([["a", "b"], ["c", "d"], ["e"]]);
      expect(third).toEqual([{ group: "e", offset: 101, updatedAt: 1 }]);
    });
  });
});
