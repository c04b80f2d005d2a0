import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeMessages } from "../protocol/log-codec.js";
import type { QueueDO } from "./queue.js";
import type { CommitLog } from "./queue/commit-log.js";
import { msg, sleep, waitForParked } from "./test-support.js";

const MiB = 1024 * 1024;

/** A fresh queue object per call: every test gets its own storage. */
function queue(): DurableObjectStub<QueueDO> {
  return env.QUEUE.get(env.QUEUE.idFromName(`broker-a/T-${crypto.randomUUID()}/0`));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Index of the first differing byte, -1 when equal (length mismatch counts at the shorter length). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function text(body: Uint8Array): string {
  return decoder.decode(body);
}

describe("QueueDO append", () => {
  it("appends with consecutive offsets from 0", async () => {
    const q = queue();
    expect((await q.append([msg(0)])).queueOffset).toBe(0);
    expect((await q.append([msg(1), msg(2), msg(3)])).queueOffset).toBe(1);
    expect((await q.append([msg(4)])).queueOffset).toBe(4);
    const last = await q.append([msg(5), msg(6)]);
    expect(last.queueOffset).toBe(5);
    const stats = await q.stats();
    expect(stats.minOffset).toBe(0);
    expect(stats.maxOffset).toBe(7);
    expect(stats.messagesAppended).toBe(7);
    expect(stats.rowsWritten).toBe(4);
    expect(stats.lastStoreTimestamp).toBe(last.storeTimestamp);
    // Every message sits at its own offset, in order, batches included.
    for (let i = 0; i < 7; i++) {
      const entry = await q.getMessage(i);
      expect(entry?.queueOffset).toBe(i);
      expect(entry?.message.msgId).toBe(`ID${i}`);
      expect(text(entry!.message.body)).toBe(`m${i}`);
    }
  });

  it("refuses an empty append and stays writable", async () => {
    const q = queue();
    let error: unknown;
    try {
      await q.append([]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe("[MESSAGE_ILLEGAL] an append needs at least one message");
    const stats = await q.stats();
    expect(stats.maxOffset).toBe(0);
    expect(stats.rowsWritten).toBe(0);
    expect(stats.lastStoreTimestamp).toBe(0);
    // The next appends still get offsets 0 and 1, also when an empty append races with them.
    const [a, empty, b] = await Promise.allSettled([q.append([msg(0)]), q.append([]), q.append([msg(1)])]);
    expect(a).toEqual({ status: "fulfilled", value: { queueOffset: 0, storeTimestamp: expect.any(Number) } });
    expect(empty.status).toBe("rejected");
    expect(b).toEqual({ status: "fulfilled", value: { queueOffset: 1, storeTimestamp: expect.any(Number) } });
    expect((await q.append([msg(2)])).queueOffset).toBe(2);
    expect((await q.stats()).messagesAppended).toBe(3);
    const all = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
    expect(all.entries.map((e) => e.message.msgId)).toEqual(["ID0", "ID1", "ID2"]);
  });

  it("round-trips every message field exactly", async () => {
    const q = queue();
    const full = msg(7, {
      msgId: "C0A80001000118B4AAC2",
      tags: "TagA",
      keys: ["k1", "k 2", "ключ"],
      properties: { a: "1", UNIQ_KEY: "x", "é": "ü" },
      bornTimestamp: 1_700_000_000_123,
      bornHost: "10.0.0.1:5555",
      flag: 3,
      reconsumeTimes: 2,
      body: encoder.encode("hello"),
    });
    const bare = msg(8, { body: new Uint8Array(0) });
    const r = await q.append([full, bare]);
    expect(r.queueOffset).toBe(0);
    const pulled = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
    expect(pulled.pullStatus).toBe("FOUND");
    expect(pulled.entries).toEqual([
      { queueOffset: 0, storeTimestamp: r.storeTimestamp, message: full },
      { queueOffset: 1, storeTimestamp: r.storeTimestamp, message: bare },
    ]);
    expect(pulled.entries[1]!.message.body.length).toBe(0);
  });

  it("gives 50 concurrent appends distinct contiguous offsets with group commit", async () => {
    const q = queue();
    const n = 50;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => q.append([msg(i)])));
    const offsets = results.map((r) => r.queueOffset).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: n }, (_, i) => i));
    const stats = await q.stats();
    expect(stats.maxOffset).toBe(n);
    expect(stats.messagesAppended).toBe(n);
    // Group commit: fewer rows than messages.
    expect(stats.rowsWritten).toBeGreaterThanOrEqual(1);
    expect(stats.rowsWritten).toBeLessThan(n);
    expect(stats.rowsWritten / stats.messagesAppended).toBeLessThan(1);
    // Each caller's message sits at the offset it was told.
    for (let i = 0; i < n; i++) {
      const entry = await q.getMessage(results[i]!.queueOffset);
      expect(entry?.message.msgId).toBe(`ID${i}`);
      expect(entry?.storeTimestamp).toBe(results[i]!.storeTimestamp);
    }
  });

  it("tiles concurrent multi-message appends into one contiguous run", async () => {
    const q = queue();
    const sizes = Array.from({ length: 30 }, (_, i) => (i % 4) + 1);
    const total = sizes.reduce((s, x) => s + x, 0);
    const results = await Promise.all(
      sizes.map((size, caller) => q.append(Array.from({ length: size }, (_, j) => msg(caller * 100 + j)))),
    );
    const runs = results
      .map((r, caller) => ({ start: r.queueOffset, size: sizes[caller]!, caller }))
      .sort((a, b) => a.start - b.start);
    let expected = 0;
    for (const run of runs) {
      expect(run.start).toBe(expected);
      expected += run.size;
    }
    expect(expected).toBe(total);
    const stats = await q.stats();
    expect(stats.maxOffset).toBe(total);
    expect(stats.messagesAppended).toBe(total);
    // Group commit never splits a caller's batch: each run lies inside one stored row.
    expect(stats.rowsWritten).toBeLessThanOrEqual(sizes.length);
    const logRows = await runInDurableObject(q, (_i, state) =>
      state.storage.sql
        .exec<{ base_offset: number; count: number }>("SELECT base_offset, count FROM log ORDER BY base_offset")
        .toArray(),
    );
    expect(logRows.length).toBe(stats.rowsWritten);
    expect(logRows.reduce((n, r) => n + r.count, 0)).toBe(total);
    for (const run of runs) {
      const row = logRows.filter((r) => r.base_offset <= run.start).pop()!;
      expect(run.start + run.size).toBeLessThanOrEqual(row.base_offset + row.count);
    }
    // Each batch is stored in its own order at its own offsets.
    const seen: string[] = [];
    let offset = 0;
    while (offset < total) {
      const page = await q.pull({ offset, maxNums: 32, maxWaitMs: 0 });
      expect(page.pullStatus).toBe("FOUND");
      page.entries.forEach((e, k) => expect(e.queueOffset).toBe(offset + k));
      seen.push(...page.entries.map((e) => e.message.msgId));
      offset = page.nextBeginOffset;
    }
    expect(offset).toBe(total);
    const want: string[] = [];
    for (const run of runs) for (let j = 0; j < run.size; j++) want.push(`ID${run.caller * 100 + j}`);
    expect(seen).toEqual(want);
  });

  it("round-trips binary bodies byte for byte, all 256 byte values", async () => {
    const q = queue();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const reversed = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    const repeated = Uint8Array.from({ length: 256 * 40 }, (_, i) => (i * 7 + (i >>> 8)) & 0xff);
    // Bytes that look like the codec's own length fields and separators.
    const tricky = new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 0x7b, 0x22, 0x7d, 0]);
    const bodies = [all, reversed, repeated, tricky];
    expect((await q.append([msg(0, { body: all })])).queueOffset).toBe(0);
    expect((await q.append(bodies.slice(1).map((body, i) => msg(i + 1, { body })))).queueOffset).toBe(1);

    const check = async (): Promise<void> => {
      for (let i = 0; i < bodies.length; i++) {
        const got = (await q.getMessage(i))!.message.body;
        expect(got).toBeInstanceOf(Uint8Array);
        expect(got.length).toBe(bodies[i]!.length);
        expect(firstDiff(got, bodies[i]!)).toBe(-1);
      }
      const pulled = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
      expect(pulled.entries.length).toBe(bodies.length);
      pulled.entries.forEach((e, i) => expect(firstDiff(e.message.body, bodies[i]!)).toBe(-1));
      expect(Array.from(pulled.entries[0]!.message.body)).toEqual(Array.from({ length: 256 }, (_, i) => i));
    };
    await check(); // from the in-memory row cache
    await evictDurableObject(q);
    await check(); // decoded again from SQLite
  });

  it("stores a 4 MiB body across log_chunk rows and reads it back exactly", async () => {
    const q = queue();
    const size = 4 * MiB;
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i++) body[i] = (i * 31 + (i >>> 10) + (i >>> 20)) & 0xff;
    const big = msg(0, { msgId: "big", tags: "Big", body });
    const encodedLength = encodeMessages([big]).length;
    const chunks = Math.ceil(encodedLength / MiB);
    expect(chunks).toBe(5);

    expect((await q.append([big])).queueOffset).toBe(0);
    expect((await q.append([msg(1)])).queueOffset).toBe(1);

    const rows = await runInDurableObject(q, (_instance, state) => {
      const log = state.storage.sql
        .exec<{ base_offset: number; count: number; extra_chunks: number; len: number }>(
          "SELECT base_offset, count, extra_chunks, length(data) AS len FROM log ORDER BY base_offset",
        )
        .toArray();
      const chunkRows = state.storage.sql
        .exec<{ base_offset: number; chunk: number; len: number }>(
          "SELECT base_offset, chunk, length(data) AS len FROM log_chunk ORDER BY base_offset, chunk",
        )
        .toArray();
      return { log, chunkRows };
    });
    expect(rows.log.length).toBe(2);
    expect(rows.log[0]).toEqual({ base_offset: 0, count: 1, extra_chunks: chunks - 1, len: MiB });
    expect(rows.log[1]!.base_offset).toBe(1);
    expect(rows.log[1]!.extra_chunks).toBe(0);
    expect(rows.chunkRows).toEqual([
      { base_offset: 0, chunk: 1, len: MiB },
      { base_offset: 0, chunk: 2, len: MiB },
      { base_offset: 0, chunk: 3, len: MiB },
      { base_offset: 0, chunk: 4, len: encodedLength - 4 * MiB },
    ]);
    expect((await q.stats()).rowsWritten).toBe(chunks + 1);

    const check = async (): Promise<void> => {
      const got = await q.getMessage(0);
      expect(got?.queueOffset).toBe(0);
      expect(got?.message.msgId).toBe("big");
      expect(got?.message.tags).toBe("Big");
      expect(got!.message.body.length).toBe(size);
      expect(firstDiff(got!.message.body, body)).toBe(-1);

      // A pull stops at 4 MiB of bodies: the big message comes alone.
      const pulled = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
      expect(pulled.pullStatus).toBe("FOUND");
      expect(pulled.nextBeginOffset).toBe(1);
      expect(pulled.entries.length).toBe(1);
      expect(pulled.entries[0]!.message.body.length).toBe(size);
      expect(firstDiff(pulled.entries[0]!.message.body, body)).toBe(-1);

      const after = await q.pull({ offset: 1, maxNums: 32, maxWaitMs: 0 });
      expect(after.pullStatus).toBe("FOUND");
      expect(after.nextBeginOffset).toBe(2);
      expect(after.entries.map((e) => text(e.message.body))).toEqual(["m1"]);
    };
    await check();
    await evictDurableObject(q);
    await check();
  });
});

describe("QueueDO pull", () => {
  it("answers FOUND, NO_NEW_MSG and OFFSET_ILLEGAL with exact offsets", async () => {
    const q = queue();
    const empty = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
    expect(empty).toEqual({ pullStatus: "NO_NEW_MSG", nextBeginOffset: 0, minOffset: 0, maxOffset: 0, entries: [] });

    await q.append([msg(0), msg(1), msg(2), msg(3), msg(4)]);

    const found = await q.pull({ offset: 2, maxNums: 32, maxWaitMs: 0 });
    expect(found.pullStatus).toBe("FOUND");
    expect(found.nextBeginOffset).toBe(5);
    expect(found.minOffset).toBe(0);
    expect(found.maxOffset).toBe(5);
    expect(found.entries.map((e) => e.queueOffset)).toEqual([2, 3, 4]);
    expect(found.entries.map((e) => e.message.msgId)).toEqual(["ID2", "ID3", "ID4"]);

    const atEnd = await q.pull({ offset: 5, maxNums: 32, maxWaitMs: 0 });
    expect(atEnd).toEqual({ pullStatus: "NO_NEW_MSG", nextBeginOffset: 5, minOffset: 0, maxOffset: 5, entries: [] });

    const beyond = await q.pull({ offset: 9, maxNums: 32, maxWaitMs: 0 });
    expect(beyond).toEqual({ pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: 5, minOffset: 0, maxOffset: 5, entries: [] });

    // OFFSET_ILLEGAL answers at once, even with a long wait.
    const beyondLong = await q.pull({ offset: 6, maxNums: 32, maxWaitMs: 5000 });
    expect(beyondLong.pullStatus).toBe("OFFSET_ILLEGAL");
    expect(beyondLong.nextBeginOffset).toBe(5);

    const negative = await q.pull({ offset: -1, maxNums: 32, maxWaitMs: 0 });
    expect(negative).toEqual({ pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: 0, minOffset: 0, maxOffset: 5, entries: [] });
  });

  it("caps the result count at maxNums", async () => {
    const q = queue();
    await q.append(Array.from({ length: 10 }, (_, i) => msg(i)));
    const first = await q.pull({ offset: 0, maxNums: 3, maxWaitMs: 0 });
    expect(first.pullStatus).toBe("FOUND");
    expect(first.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2]);
    expect(first.nextBeginOffset).toBe(3);
    const second = await q.pull({ offset: 3, maxNums: 4, maxWaitMs: 0 });
    expect(second.entries.map((e) => e.queueOffset)).toEqual([3, 4, 5, 6]);
    expect(second.nextBeginOffset).toBe(7);
    const one = await q.pull({ offset: 9, maxNums: 1, maxWaitMs: 0 });
    expect(one.entries.map((e) => e.message.msgId)).toEqual(["ID9"]);
    expect(one.nextBeginOffset).toBe(10);
    const rest = await q.pull({ offset: 7, maxNums: 32, maxWaitMs: 0 });
    expect(rest.entries.map((e) => e.queueOffset)).toEqual([7, 8, 9]);
    expect(rest.nextBeginOffset).toBe(10);
  });

  it("reads across row boundaries starting mid-row", async () => {
    const q = queue();
    await q.append([msg(0), msg(1), msg(2)]);
    await q.append([msg(3)]);
    await q.append([msg(4), msg(5)]);
    await evictDurableObject(q); // read from SQLite, not the row cache
    const page = await q.pull({ offset: 1, maxNums: 4, maxWaitMs: 0 });
    expect(page.entries.map((e) => e.message.msgId)).toEqual(["ID1", "ID2", "ID3", "ID4"]);
    expect(page.nextBeginOffset).toBe(5);
    expect((await q.getMessage(5))?.message.msgId).toBe("ID5");
    expect((await q.getMessage(2))?.message.msgId).toBe("ID2");
  });

  it("filters by tag expression", async () => {
    const q = queue();
    const tags = ["TagA", "TagB", "", "TagC", "TagA", "", "TagB", "TagAB"];
    await q.append(tags.map((t, i) => msg(i, { tags: t })));

    const ab = await q.pull({ offset: 0, maxNums: 32, expression: "TagA || TagB", maxWaitMs: 0 });
    expect(ab.pullStatus).toBe("FOUND");
    expect(ab.entries.map((e) => e.queueOffset)).toEqual([0, 1, 4, 6]);
    expect(ab.entries.map((e) => e.message.tags)).toEqual(["TagA", "TagB", "TagA", "TagB"]);
    expect(ab.nextBeginOffset).toBe(8);

    const onlyA = await q.pull({ offset: 0, maxNums: 32, expression: "TagA", maxWaitMs: 0 });
    expect(onlyA.entries.map((e) => e.queueOffset)).toEqual([0, 4]);
    expect(onlyA.nextBeginOffset).toBe(8);

    // Whitespace around tags is ignored.
    const spaced = await q.pull({ offset: 0, maxNums: 32, expression: "  TagC||TagAB ", maxWaitMs: 0 });
    expect(spaced.entries.map((e) => e.queueOffset)).toEqual([3, 7]);

    // "*" and no expression match everything, untagged messages included.
    const star = await q.pull({ offset: 0, maxNums: 32, expression: "*", maxWaitMs: 0 });
    expect(star.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const none = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
    expect(none.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const starInList = await q.pull({ offset: 0, maxNums: 32, expression: "TagZ || *", maxWaitMs: 0 });
    expect(starInList.entries.map((e) => e.queueOffset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    // maxNums counts matches, and nextBeginOffset follows the last one taken.
    const capped = await q.pull({ offset: 0, maxNums: 2, expression: "TagA || TagB", maxWaitMs: 0 });
    expect(capped.entries.map((e) => e.queueOffset)).toEqual([0, 1]);
    expect(capped.nextBeginOffset).toBe(2);
    const next = await q.pull({ offset: 2, maxNums: 1, expression: "TagA || TagB", maxWaitMs: 0 });
    expect(next.entries.map((e) => e.queueOffset)).toEqual([4]);
    expect(next.nextBeginOffset).toBe(5);
  });

  it("answers NO_MATCHED_MSG with nextBeginOffset advanced past the scanned messages", async () => {
    const q = queue();
    await q.append([msg(0, { tags: "TagA" }), msg(1, { tags: "TagB" }), msg(2), msg(3, { tags: "TagC" })]);
    const none = await q.pull({ offset: 1, maxNums: 32, expression: "TagA", maxWaitMs: 0 });
    expect(none).toEqual({ pullStatus: "NO_MATCHED_MSG", nextBeginOffset: 4, minOffset: 0, maxOffset: 4, entries: [] });
    const fromStart = await q.pull({ offset: 0, maxNums: 32, expression: "TagX || TagY", maxWaitMs: 0 });
    expect(fromStart).toEqual({
      pullStatus: "NO_MATCHED_MSG",
      nextBeginOffset: 4,
      minOffset: 0,
      maxOffset: 4,
      entries: [],
    });
    // At the end there is nothing to scan: NO_NEW_MSG, whatever the filter.
    const atEnd = await q.pull({ offset: 4, maxNums: 32, expression: "TagA", maxWaitMs: 0 });
    expect(atEnd.pullStatus).toBe("NO_NEW_MSG");
    expect(atEnd.nextBeginOffset).toBe(4);
  });
});

describe("QueueDO long poll", () => {
  it("wakes a parked pull as soon as another call appends", async () => {
    const q = queue();
    await q.append([msg(0)]);
    const started = Date.now();
    const pending = q.pull({ offset: 1, maxNums: 32, maxWaitMs: 5000 });
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
    const q = queue();
    const started = Date.now();
    const a = q.pull({ offset: 0, maxNums: 32, maxWaitMs: 5000 });
    const b = q.pull({ offset: 0, maxNums: 1, maxWaitMs: 5000 });
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

  it("item 7: two accounts filling a queue's parked pulls do not refuse another account's long poll", async () => {
    const q = queue();
    await q.append([msg(0)]);
    const outcome = (p: Promise<{ pullStatus: string }>) => p.then((r) => r.pullStatus, (e: unknown) => (e as Error).message);
    // Two read-only accounts park 500 pulls each: the queue's 1,000 places.
    const flood = Array.from({ length: 1000 }, (_, i) =>
      outcome(q.pull({ offset: 1, maxNums: 1, maxWaitMs: 30_000, account: i % 2 === 0 ? "ro-1" : "ro-2" })),
    );
    for (let i = 0; i < 600 && (await q.stats()).parkedPulls < 1000; i++) await sleep(50);
    expect((await q.stats()).parkedPulls).toBe(1000);

    // The consumer's long poll parks: the oldest pull of a filling account makes room.
    const consumer = outcome(q.pull({ offset: 1, maxNums: 1, maxWaitMs: 30_000, account: "app" }));
    // The first to answer is one of theirs, ended to make room (not the consumer, refused).
    expect(await Promise.race([consumer, ...flood])).toBe("NO_NEW_MSG");
    expect((await q.stats()).parkedPulls).toBe(1000);
    // The filling accounts are refused now, not the consumer.
    expect(await outcome(q.pull({ offset: 1, maxNums: 1, maxWaitMs: 30_000, account: "ro-2" }))).toBe(
      "[TOO_MANY_WAITERS] this queue already holds 1000 parked pulls, 500 of them this account's (its share); retry later",
    );
    await q.append([msg(1)]);
    expect(await consumer).toBe("FOUND");
    const ended = await Promise.all(flood);
    expect([ended.filter((s) => s === "FOUND").length, ended.filter((s) => s === "NO_NEW_MSG").length]).toEqual([999, 1]);
  });

  it("returns NO_NEW_MSG when the wait runs out", async () => {
    const q = queue();
    await q.append([msg(0), msg(1)]);
    const started = Date.now();
    const result = await q.pull({ offset: 2, maxNums: 32, maxWaitMs: 300 });
    const elapsed = Date.now() - started;
    expect(result).toEqual({ pullStatus: "NO_NEW_MSG", nextBeginOffset: 2, minOffset: 0, maxOffset: 2, entries: [] });
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(2000);
    expect((await q.stats()).parkedPulls).toBe(0);
  });

  it("keeps a filtered pull parked through non-matching appends", async () => {
    const q = queue();
    const started = Date.now();
    const pending = q.pull({ offset: 0, maxNums: 32, expression: "TagA", maxWaitMs: 5000 });
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
    const q = queue();
    const started = Date.now();
    const pending = q.pull({ offset: 0, maxNums: 32, expression: "TagA", maxWaitMs: 300 });
    await waitForParked(q, 1);
    await q.append([msg(0, { tags: "TagB" })]);
    const result = await pending;
    const elapsed = Date.now() - started;
    expect(result).toEqual({ pullStatus: "NO_MATCHED_MSG", nextBeginOffset: 1, minOffset: 0, maxOffset: 1, entries: [] });
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(2000);
  });
});

describe("QueueDO consumer offsets", () => {
  it("starts uncommitted at 0 and returns what was committed", async () => {
    const q = queue();
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
    const q = queue();
    await q.commitOffset("G", 0);
    expect(await q.fetchOffset("G")).toEqual({ offset: 0, committed: true });
  });

  it("refuses a commit beyond maxOffset with OFFSET_ILLEGAL and keeps the old value", async () => {
    const q = queue();
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

describe("QueueDO searchOffset", () => {
  it("finds the first offset stored at or after a timestamp", async () => {
    const q = queue();
    expect(await q.searchOffset(Date.now())).toBe(0);

    const r1 = await q.append([msg(0), msg(1), msg(2)]);
    await sleep(15);
    const r2 = await q.append([msg(3), msg(4)]);
    await sleep(15);
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
    const q = queue();
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
      return plan.map((p) => log.append(Array.from({ length: p.count }, () => msg(i++)), p.now));
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
    const later = await runInDurableObject(q, (instance) =>
      (instance as unknown as { log: CommitLog }).log.append([msg(12)], 8000),
    );
    expect(later).toEqual({ baseOffset: 12, storeTimestamp: 9000 });
    expect(await q.searchOffset(9000)).toBe(11);
    expect(await q.searchOffset(9001)).toBe(13);
  });
});

describe("QueueDO getMessage", () => {
  it("returns null for offsets it does not hold", async () => {
    const q = queue();
    expect(await q.getMessage(0)).toBeNull();
    await q.append([msg(0), msg(1)]);
    expect(await q.getMessage(2)).toBeNull();
    expect(await q.getMessage(100)).toBeNull();
    expect(await q.getMessage(-1)).toBeNull();
    expect((await q.getMessage(1))?.message.msgId).toBe("ID1");
  });
});

describe("QueueDO purge", () => {
  it("empties the queue, drops offsets and restarts at 0", async () => {
    const q = queue();
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
    expect(await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 })).toEqual({
      pullStatus: "NO_NEW_MSG",
      nextBeginOffset: 0,
      minOffset: 0,
      maxOffset: 0,
      entries: [],
    });
    const rows = await runInDurableObject(q, (_i, state) => ({
      log: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM log").one().n,
      chunks: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM log_chunk").one().n,
      offsets: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM consumer_offset").one().n,
    }));
    expect(rows).toEqual({ log: 0, chunks: 0, offsets: 0 });

    // New messages start at 0 again, and old ones do not come back from any cache.
    expect((await q.append([msg(10)])).queueOffset).toBe(0);
    expect((await q.append([msg(11), msg(12)])).queueOffset).toBe(1);
    const pulled = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
    expect(pulled.entries.map((e) => e.message.msgId)).toEqual(["ID10", "ID11", "ID12"]);
    expect(pulled.nextBeginOffset).toBe(3);

    await evictDurableObject(q);
    expect((await q.stats()).maxOffset).toBe(3);
    expect((await q.getMessage(0))?.message.msgId).toBe("ID10");
    expect(await q.getMessage(3)).toBeNull();
    expect(await q.fetchOffset("G")).toEqual({ offset: 0, committed: false });
  });

  it("releases parked pulls, which then see the offset is gone", async () => {
    const q = queue();
    await q.append([msg(0), msg(1), msg(2)]);
    const started = Date.now();
    const pending = q.pull({ offset: 3, maxNums: 32, maxWaitMs: 5000 });
    await waitForParked(q, 1);
    await q.purge();
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toEqual({ pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: 0, minOffset: 0, maxOffset: 0, entries: [] });
  });
});

describe("QueueDO durability", () => {
  it("keeps messages and consumer offsets across eviction", async () => {
    const q = queue();
    const r0 = await q.append([msg(0, { tags: "TagA", keys: ["k"] })]);
    await sleep(15);
    const r1 = await q.append([msg(1), msg(2, { body: Uint8Array.from({ length: 256 }, (_, i) => i) })]);
    expect(r1.storeTimestamp).toBeGreaterThan(r0.storeTimestamp);
    await q.commitOffset("G", 2);
    const before = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });

    await evictDurableObject(q);

    const stats = await q.stats();
    expect(stats.minOffset).toBe(0);
    expect(stats.maxOffset).toBe(3);
    expect(stats.lastStoreTimestamp).toBe(r1.storeTimestamp);
    expect(await q.fetchOffset("G")).toEqual({ offset: 2, committed: true });
    const after = await q.pull({ offset: 0, maxNums: 32, maxWaitMs: 0 });
    expect(after).toEqual(before);
    expect(after.entries.map((e) => e.storeTimestamp)).toEqual([r0.storeTimestamp, r1.storeTimestamp, r1.storeTimestamp]);
    expect(after.entries[0]!.message.tags).toBe("TagA");
    expect(after.entries[0]!.message.keys).toEqual(["k"]);
    expect(firstDiff(after.entries[2]!.message.body, Uint8Array.from({ length: 256 }, (_, i) => i))).toBe(-1);

    // Appends continue where the log left off.
    expect((await q.append([msg(3)])).queueOffset).toBe(3);
    await evictDurableObject(q);
    expect((await q.getMessage(3))?.message.msgId).toBe("ID3");
    expect((await q.stats()).maxOffset).toBe(4);
    expect(await q.searchOffset(r1.storeTimestamp)).toBe(1);
  });
});
