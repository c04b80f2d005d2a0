/**
 * One read of a queue for a pull (pull.ts): FOUND, NO_NEW_MSG, NO_MATCHED_MSG and
 * OFFSET_ILLEGAL with exact offsets, maxNums, reads across rows, tag filters.
 */
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { heldPull, msg, newQueue, NOTHING } from "../test-support.js";

describe("QueueDO pull", () => {
  it("answers FOUND, NO_NEW_MSG and OFFSET_ILLEGAL with exact offsets", async () => {
    const { q } = newQueue();
    const empty = await q.pull({ offset: 0, maxNums: 32 });
    expect(empty).toEqual(NOTHING);

    await q.append([msg(0), msg(1), msg(2), msg(3), msg(4)]);

    const found = await q.pull({ offset: 2, maxNums: 32 });
    expect(found.pullStatus).toBe("FOUND");
    expect(found.nextBeginOffset).toBe(5);
    expect(found.minOffset).toBe(0);
    expect(found.maxOffset).toBe(5);
    expect(found.entries.map((e) => e.queueOffset)).toEqual([2, 3, 4]);
    expect(found.entries.map((e) => e.message.msgId)).toEqual(["ID2", "ID3", "ID4"]);

    const atEnd = await q.pull({ offset: 5, maxNums: 32 });
    expect(atEnd).toEqual({ pullStatus: "NO_NEW_MSG", nextBeginOffset: 5, minOffset: 0, maxOffset: 5, entries: [] });

    const beyond = await q.pull({ offset: 9, maxNums: 32 });
    expect(beyond).toEqual({ pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: 5, minOffset: 0, maxOffset: 5, entries: [] });

    // OFFSET_ILLEGAL answers at once, even with a long wait.
    const beyondLong = await heldPull(q, { offset: 6, maxNums: 32, maxWaitMs: 5000 });
    expect(beyondLong.pullStatus).toBe("OFFSET_ILLEGAL");
    expect(beyondLong.nextBeginOffset).toBe(5);

    const negative = await q.pull({ offset: -1, maxNums: 32 });
    expect(negative).toEqual({ pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: 0, minOffset: 0, maxOffset: 5, entries: [] });
  });

  it("caps the result count at maxNums", async () => {
    const { q } = newQueue();
    await q.append(Array.from({ length: 10 }, (_, i) => msg(i)));
    const first = await q.pull({ offset: 0, maxNums: 3 });
    expect(first.pullStatus).toBe("FOUND");
    expect(first.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2]);
    expect(first.nextBeginOffset).toBe(3);
    const second = await q.pull({ offset: 3, maxNums: 4 });
    expect(second.entries.map((e) => e.queueOffset)).toEqual([3, 4, 5, 6]);
    expect(second.nextBeginOffset).toBe(7);
    const one = await q.pull({ offset: 9, maxNums: 1 });
    expect(one.entries.map((e) => e.message.msgId)).toEqual(["ID9"]);
    expect(one.nextBeginOffset).toBe(10);
    const rest = await q.pull({ offset: 7, maxNums: 32 });
    expect(rest.entries.map((e) => e.queueOffset)).toEqual([7, 8, 9]);
    expect(rest.nextBeginOffset).toBe(10);
  });

  it("reads across row boundaries starting mid-row", async () => {
    const { q } = newQueue();
    await q.append([msg(0), msg(1), msg(2)]);
    await q.append([msg(3)]);
    await q.append([msg(4), msg(5)]);
    await evictDurableObject(q); // read from SQLite, not the row cache
    const page = await q.pull({ offset: 1, maxNums: 4 });
    expect(page.entries.map((e) => e.message.msgId)).toEqual(["ID1", "ID2", "ID3", "ID4"]);
    expect(page.nextBeginOffset).toBe(5);
    expect((await q.getMessage(5))?.message.msgId).toBe("ID5");
    expect((await q.getMessage(2))?.message.msgId).toBe("ID2");
  });

  it("filters by tag expression", async () => {
    const { q } = newQueue();
    const tags = ["TagA", "TagB", "", "TagC", "TagA", "", "TagB", "TagAB"];
    await q.append(tags.map((t, i) => msg(i, { tags: t })));

    const ab = await q.pull({ offset: 0, maxNums: 32, expression: "TagA || TagB" });
    expect(ab.pullStatus).toBe("FOUND");
    expect(ab.entries.map((e) => e.queueOffset)).toEqual([0, 1, 4, 6]);
    expect(ab.entries.map((e) => e.message.tags)).toEqual(["TagA", "TagB", "TagA", "TagB"]);
    expect(ab.nextBeginOffset).toBe(8);

    const onlyA = await q.pull({ offset: 0, maxNums: 32, expression: "TagA" });
    expect(onlyA.entries.map((e) => e.queueOffset)).toEqual([0, 4]);
    expect(onlyA.nextBeginOffset).toBe(8);

    // Whitespace around tags is ignored.
    const spaced = await q.pull({ offset: 0, maxNums: 32, expression: "  TagC||TagAB " });
    expect(spaced.entries.map((e) => e.queueOffset)).toEqual([3, 7]);

    // "*" and no expression match everything, untagged messages included.
    const star = await q.pull({ offset: 0, maxNums: 32, expression: "*" });
    expect(star.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const none = await q.pull({ offset: 0, maxNums: 32 });
    expect(none.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const starInList = await q.pull({ offset: 0, maxNums: 32, expression: "TagZ || *" });
    expect(starInList.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    // maxNums counts matches, and nextBeginOffset follows the last one taken.
    const capped = await q.pull({ offset: 0, maxNums: 2, expression: "TagA || TagB" });
    expect(capped.entries.map((e) => e.queueOffset)).toEqual([0, 1]);
    expect(capped.nextBeginOffset).toBe(2);
    const next = await q.pull({ offset: 2, maxNums: 1, expression: "TagA || TagB" });
    expect(next.entries.map((e) => e.queueOffset)).toEqual([4]);
    expect(next.nextBeginOffset).toBe(5);
  });

  it("answers NO_MATCHED_MSG with nextBeginOffset advanced past the scanned messages", async () => {
    const { q } = newQueue();
    await q.append([msg(0, { tags: "TagA" }), msg(1, { tags: "TagB" }), msg(2), msg(3, { tags: "TagC" })]);
    const none = await q.pull({ offset: 1, maxNums: 32, expression: "TagA" });
    expect(none).toEqual({ pullStatus: "NO_MATCHED_MSG", nextBeginOffset: 4, minOffset: 0, maxOffset: 4, entries: [] });
    const fromStart = await q.pull({ offset: 0, maxNums: 32, expression: "TagX || TagY" });
    expect(fromStart).toEqual({
      pullStatus: "NO_MATCHED_MSG",
      nextBeginOffset: 4,
      minOffset: 0,
      maxOffset: 4,
      entries: [],
    });
    // At the end there is nothing to scan: NO_NEW_MSG, whatever the filter.
    const atEnd = await q.pull({ offset: 4, maxNums: 32, expression: "TagA" });
    expect(atEnd.pullStatus).toBe("NO_NEW_MSG");
    expect(atEnd.nextBeginOffset).toBe(4);
  });
});
