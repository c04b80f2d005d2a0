import { describe, expect, it } from "vitest";
import type { MessageExt } from "./message.js";
import { mx } from "./test-support/messages.js";
import { ProcessQueue } from "./process-queue.js";

const offsets = (ms: MessageExt[]): number[] => ms.map((m) => m.queueOffset);

describe("ProcessQueue", () => {
  it("starts empty: nothing in flight, commits what was pulled", () => {
    const pq = new ProcessQueue();
    expect(pq.count).toBe(0);
    expect(pq.dropped).toBe(false);
    expect(pq.head(10)).toEqual([]);
    expect(pq.commitOffset(0)).toBe(0);
    expect(pq.commitOffset(7)).toBe(7);
  });

  it("commits the smallest offset still in flight", () => {
    const pq = new ProcessQueue();
    pq.add([mx(5), mx(3), mx(4)]);
    expect(pq.count).toBe(3);
    expect(pq.commitOffset(6)).toBe(3);
    // Finishing a later message does not move the commit point past an unfinished earlier one.
    pq.remove([mx(5)]);
    expect(pq.commitOffset(6)).toBe(3);
    pq.remove([mx(3)]);
    expect(pq.commitOffset(6)).toBe(4);
    expect(pq.count).toBe(1);
    pq.remove([mx(4)]);
    expect(pq.count).toBe(0);
    // Empty again: everything pulled so far is safe to commit.
    expect(pq.commitOffset(6)).toBe(6);
  });

  it("returns the head in offset order whatever order messages arrived in", () => {
    const pq = new ProcessQueue();
    pq.add([mx(12), mx(10)]);
    pq.add([mx(15), mx(11), mx(13)]);
    expect(offsets(pq.head(2))).toEqual([10, 11]);
    expect(offsets(pq.head(10))).toEqual([10, 11, 12, 13, 15]);
    expect(offsets(pq.head(0))).toEqual([]);
    // head() only looks: nothing leaves the queue.
    expect(pq.count).toBe(5);
    pq.remove(pq.head(2));
    expect(offsets(pq.head(10))).toEqual([12, 13, 15]);
    expect(pq.commitOffset(16)).toBe(12);
  });

  it("counts a re-added offset once and ignores removals of unknown offsets", () => {
    const pq = new ProcessQueue();
    pq.add([mx(1), mx(2)]);
    pq.add([mx(2)]);
    expect(pq.count).toBe(2);
    pq.remove([mx(9)]);
    expect(pq.count).toBe(2);
    expect(pq.commitOffset(3)).toBe(1);
    // The message object kept is the latest one added at that offset.
    const again = { ...mx(1), reconsumeTimes: 4 };
    pq.add([again]);
    expect(pq.head(1)[0]).toBe(again);
  });
});
