/**
 * Long polling on a queue, held as the Worker holds it (cluster/long-polls.ts) against the queue's
 * side (long-poll.ts): parked pulls woken by an append, filtered pulls parked through
 * non-matching appends, timeouts, and parked places shared fairly between accounts.
 */
import { describe, expect, it } from "vitest";
import { heldPull, msg, newQueue, waitForParked } from "../test-support.js";

describe("QueueDO long poll", () => {
  it("wakes a parked pull as soon as another call appends", async () => {
    const { q } = newQueue();
    await q.append([msg(0)]);
    const started = Date.now();
    const pending = heldPull(q, { offset: 1, maxNums: 32, maxWaitMs: 5000 });
    await waitForParked(q, 1);
    const appended = await q.append([msg(1, { tags: "TagA" }), msg(2)]);
    expect(appended.queueOffset).toBe(1);
    const result = await pending;
    const elapsed = Date.now() - started;
    expect(result.pullStatus).toBe("FOUND");
    expect(result.nextBeginOffset).toBe(3);
    expect(result.maxOffset).toBe(3);
    expect(result.entries.map((e) => e.queueOffset)).toEqual([1, 2]);
    expect(result.entries.map((e) => e.message.msgId)).toEqual(["ID1", "ID2"]);
    expect(result.entries[0]!.storeTimestamp).toBe(appended.storeTimestamp);
    expect(elapsed).toBeLessThan(2000);
    expect((await q.stats()).parkedPulls).toBe(0);
  });

  it("wakes every parked pull on one append", async () => {
    const { q } = newQueue();
    const started = Date.now();
    const a = heldPull(q, { offset: 0, maxNums: 32, maxWaitMs: 5000 });
    const b = heldPull(q, { offset: 0, maxNums: 1, maxWaitMs: 5000 });
    await waitForParked(q, 2);
    await q.append([msg(0), msg(1)]);
    const [ra, rb] = await Promise.all([a, b]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ra.pullStatus).toBe("FOUND");
    expect(ra.entries.map((e) => e.queueOffset)).toEqual([0, 1]);
    expect(ra.nextBeginOffset).toBe(2);
    expect(rb.pullStatus).toBe("FOUND");
    expect(rb.entries.map((e) => e.queueOffset)).toEqual([0]);
    expect(rb.nextBeginOffset).toBe(1);
    expect((await q.stats()).parkedPulls).toBe(0);
  });

  // A thousand long polls, each a Worker-side wait with its own socket, take seconds to park and wake on a loaded machine.
  it("item 7: two accounts filling a queue's parked pulls do not refuse another account's long poll", { timeout: 60_000 }, async () => {
    const { q } = newQueue();
    await q.append([msg(0)]);
    const outcome = (p: Promise<{ pullStatus: string }>) =>
      p.then(
        (r) => r.pullStatus,
        (e: unknown) => (e as Error).message,
      );
    // Two read-only accounts park 500 pulls each: the queue's 1,000 places.
    const flood = Array.from({ length: 1000 }, (_, i) =>
      outcome(heldPull(q, { offset: 1, maxNums: 1, maxWaitMs: 30_000, account: i % 2 === 0 ? "ro-1" : "ro-2" })),
    );
    await waitForParked(q, 1000, 30_000);

    // The consumer's long poll parks: the oldest pull of a filling account makes room.
    const consumer = outcome(heldPull(q, { offset: 1, maxNums: 1, maxWaitMs: 30_000, account: "app" }));
    // The first to answer is one of theirs, ended to make room (not the consumer, refused).
    expect(await Promise.race([consumer, ...flood])).toBe("NO_NEW_MSG");
    expect((await q.stats()).parkedPulls).toBe(1000);
    // The filling accounts are refused now, not the consumer.
    expect(await outcome(heldPull(q, { offset: 1, maxNums: 1, maxWaitMs: 30_000, account: "ro-2" }))).toBe(
      "[TOO_MANY_WAITERS] this queue already holds 1000 parked pulls, 500 of them this account's (its share); retry later",
    );
    await q.append([msg(1)]);
    expect(await consumer).toBe("FOUND");
    const ended = await Promise.all(flood);
    expect([ended.filter((s) => s === "FOUND").length, ended.filter((s) => s === "NO_NEW_MSG").length]).toEqual([999, 1]);
  });

  it("returns NO_NEW_MSG when the wait runs out", async () => {
    const { q } = newQueue();
    await q.append([msg(0), msg(1)]);
    const started = Date.now();
    const result = await heldPull(q, { offset: 2, maxNums: 32, maxWaitMs: 300 });
    const elapsed = Date.now() - started;
    expect(result).toEqual({ pullStatus: "NO_NEW_MSG", nextBeginOffset: 2, minOffset: 0, maxOffset: 2, entries: [] });
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(2000);
    expect((await q.stats()).parkedPulls).toBe(0);
  });

  it("keeps a filtered pull parked through non-matching appends", async () => {
    const { q } = newQueue();
    const started = Date.now();
    const pending = heldPull(q, { offset: 0, maxNums: 32, expression: "TagA", maxWaitMs: 5000 });
    await waitForParked(q, 1);
    await q.append([msg(0, { tags: "TagB" }), msg(1)]);
    // Woken, found nothing matching, parked again.
    await waitForParked(q, 1);
    await q.append([msg(2, { tags: "TagA" })]);
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.pullStatus).toBe("FOUND");
    expect(result.entries.map((e) => e.queueOffset)).toEqual([2]);
    expect(result.entries[0]!.message.msgId).toBe("ID2");
    expect(result.nextBeginOffset).toBe(3);
  });

  it("answers NO_MATCHED_MSG when only non-matching messages arrived before the timeout", async () => {
    const { q } = newQueue();
    const started = Date.now();
    const pending = heldPull(q, { offset: 0, maxNums: 32, expression: "TagA", maxWaitMs: 300 });
    await waitForParked(q, 1);
    await q.append([msg(0, { tags: "TagB" })]);
    const result = await pending;
    const elapsed = Date.now() - started;
    expect(result).toEqual({ pullStatus: "NO_MATCHED_MSG", nextBeginOffset: 1, minOffset: 0, maxOffset: 1, entries: [] });
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(2000);
  });
});
