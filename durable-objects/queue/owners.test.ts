/**
 * Rebalance fencing on a queue (owners.ts): the owner a group object records lets only that
 * member's fenced pulls and commits through, across eviction and late updates, and a parked pull
 * of a member that lost the queue is released.
 */
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { MemberFence } from "../../protocol/consumer.js";
import type { QueueDO } from "../queue.js";
import { commitAs, heldPull, msg, newQueue, notOwner, uniqueName, waitForParked } from "../test-support.js";

// evictDurableObject() hangs in this harness once an object has thrown from an RPC method, so
// tests evict an object before any of its calls is refused.

/** A pull's outcome from offset 0: its status, or the message it was refused with. */
async function pullAs(q: DurableObjectStub<QueueDO>, grp: string | undefined, fence?: MemberFence, maxWaitMs = 0): Promise<string> {
  try {
    const r = await heldPull(q, {
      offset: 0,
      maxNums: 32,
      maxWaitMs,
      ...(grp === undefined ? {} : { group: grp }),
      ...(fence ? { fence } : {}),
    });
    return r.pullStatus;
  } catch (e) {
    return (e as Error).message;
  }
}

describe("QueueDO owners", () => {
  it("lets the owner's fenced pulls and commits through and refuses everyone else", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.append([msg(0), msg(1)]);
    await q.setOwner(g, "A", 3);
    expect(await pullAs(q, g, { clientId: "A", generation: 3 })).toBe("FOUND");
    // A newer generation of the same owner (it heard of a later rebalance) is fine too.
    expect(await pullAs(q, g, { clientId: "A", generation: 4 })).toBe("FOUND");
    expect(await pullAs(q, g, { clientId: "A", generation: 2 })).toBe(notOwner(g, 3));
    expect(await pullAs(q, g, { clientId: "B", generation: 3 })).toBe(notOwner(g, 3));
    expect(await pullAs(q, g, { clientId: "B", generation: 9 })).toBe(notOwner(g, 3));

    expect(await commitAs(q, g, 1, { clientId: "A", generation: 3 })).toBe("OK");
    expect(await q.fetchOffset(g)).toEqual({ offset: 1, committed: true });
    expect(await commitAs(q, g, 2, { clientId: "B", generation: 3 })).toBe(notOwner(g, 3));
    expect(await commitAs(q, g, 2, { clientId: "A", generation: 2 })).toBe(notOwner(g, 3));
    expect(await q.fetchOffset(g)).toEqual({ offset: 1, committed: true });

    // Ownership is per group: another group's members are not fenced here.
    const other = uniqueName("G");
    expect(await pullAs(q, other, { clientId: "B", generation: 0 })).toBe("FOUND");
    expect(await commitAs(q, other, 2, { clientId: "B", generation: 0 })).toBe("OK");
    expect(await q.fetchOffset(other)).toEqual({ offset: 2, committed: true });
  });

  it("never refuses a call without a fence (a raw PullConsumer)", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.append([msg(0), msg(1), msg(2)]);
    await q.setOwner(g, "A", 1);
    expect(await pullAs(q, undefined)).toBe("FOUND");
    expect(await pullAs(q, g)).toBe("FOUND");
    expect(await commitAs(q, g, 2)).toBe("OK");
    expect(await q.fetchOffset(g)).toEqual({ offset: 2, committed: true });
    // The fence still applies to members.
    expect(await pullAs(q, g, { clientId: "B", generation: 1 })).toBe(notOwner(g, 1));
  });

  it("setOwner(null) opens the queue to any member", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.append([msg(0)]);
    await q.setOwner(g, "A", 1);
    expect(await pullAs(q, g, { clientId: "B", generation: 1 })).toBe(notOwner(g, 1));
    await q.setOwner(g, null, 2);
    expect(await pullAs(q, g, { clientId: "B", generation: 0 })).toBe("FOUND");
    expect(await commitAs(q, g, 1, { clientId: "B", generation: 0 })).toBe("OK");
    expect(await pullAs(q, g, { clientId: "A", generation: 1 })).toBe("FOUND");
    // And a later owner closes it again.
    await q.setOwner(g, "B", 3);
    expect(await pullAs(q, g, { clientId: "A", generation: 3 })).toBe(notOwner(g, 3));
    expect(await pullAs(q, g, { clientId: "B", generation: 3 })).toBe("FOUND");
  });

  it("keeps a newer owner when a late setOwner from an older generation arrives", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.append([msg(0)]);
    await q.setOwner(g, "B", 5);
    await q.setOwner(g, "A", 4);
    // A late release does not open it either.
    await q.setOwner(g, null, 4);
    expect(await pullAs(q, g, { clientId: "B", generation: 5 })).toBe("FOUND");
    expect(await pullAs(q, g, { clientId: "A", generation: 4 })).toBe(notOwner(g, 5));
    expect(await pullAs(q, g, { clientId: "A", generation: 5 })).toBe(notOwner(g, 5));
    expect(await pullAs(q, g, { clientId: "C", generation: 9 })).toBe(notOwner(g, 5));
  });

  it("stores the owner: an evicted object still fences and still ignores older updates", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.append([msg(0)]);
    await q.setOwner(g, "B", 5);
    await evictDurableObject(q);
    await q.setOwner(g, "A", 4);
    await q.setOwner(g, null, 3);
    expect(await pullAs(q, g, { clientId: "B", generation: 5 })).toBe("FOUND");
    expect(await pullAs(q, g, { clientId: "A", generation: 5 })).toBe(notOwner(g, 5));
  });

  it("keeps a queue open when a late setOwner from an older generation arrives after a newer release", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.append([msg(0)]);
    await q.setOwner(g, "A", 5);
    await q.setOwner(g, null, 6);
    // A rebalance of generation 5 whose call arrives late must not bring A back.
    await q.setOwner(g, "A", 5);
    expect(await pullAs(q, g, { clientId: "B", generation: 6 })).toBe("FOUND");
    // A newer owner still takes it.
    await q.setOwner(g, "B", 7);
    expect(await pullAs(q, g, { clientId: "B", generation: 7 })).toBe("FOUND");
    expect(await pullAs(q, g, { clientId: "A", generation: 7 })).toBe(notOwner(g, 7));
  });

  it("remembers a release across eviction, so a late older owner is still ignored", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.append([msg(0)]);
    await q.setOwner(g, "A", 5);
    await q.setOwner(g, null, 6);
    await evictDurableObject(q);
    await q.setOwner(g, "A", 4);
    expect(await pullAs(q, g, { clientId: "B", generation: 0 })).toBe("FOUND");
    expect(await commitAs(q, g, 1, { clientId: "B", generation: 0 })).toBe("OK");
  });

  it("releases the old owner's parked pull with NOT_QUEUE_OWNER when the queue moves", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.setOwner(g, "A", 1);
    const started = Date.now();
    const fenced = pullAs(q, g, { clientId: "A", generation: 1 }, 10_000).then((outcome) => ({ outcome, at: Date.now() }));
    const raw = heldPull(q, { offset: 0, maxNums: 32, maxWaitMs: 10_000 });
    await waitForParked(q, 2);
    await q.setOwner(g, "B", 2);
    const { outcome, at } = await fenced;
    expect(outcome).toBe(notOwner(g, 2));
    expect(at - started).toBeLessThan(5000);
    // The unfenced pull went back to waiting and gets the next message.
    await waitForParked(q, 1);
    await q.append([msg(0)]);
    const got = await raw;
    expect(got.pullStatus).toBe("FOUND");
    expect(got.entries.map((e) => e.message.msgId)).toEqual(["ID0"]);
    expect((await q.stats()).parkedPulls).toBe(0);
  });

  it("a parked pull of the new owner keeps waiting through the move and gets the message", async () => {
    const { q } = newQueue();
    const g = uniqueName("G");
    await q.setOwner(g, "A", 1);
    // Not the owner yet: refused at once rather than parked.
    expect(await pullAs(q, g, { clientId: "B", generation: 2 })).toBe(notOwner(g, 1));
    expect((await q.stats()).parkedPulls).toBe(0);

    await q.setOwner(g, "B", 2);
    const parked = heldPull(q, { offset: 0, maxNums: 32, maxWaitMs: 10_000, group: g, fence: { clientId: "B", generation: 2 } });
    await waitForParked(q, 1);
    await q.setOwner(g, "B", 2); // a repeated (same) owner wakes it, and it parks again
    await waitForParked(q, 1);
    await q.append([msg(0)]);
    expect((await parked).entries.map((e) => e.message.msgId)).toEqual(["ID0"]);
  });
});
