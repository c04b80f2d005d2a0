/**
 * Appends through the queue's group commit (group-commit.ts): consecutive offsets, concurrent
 * appends tiled into contiguous runs with few rows, an empty append refused, and every message
 * field and body byte stored exactly (log rows and their chunks: commit-log.ts). The piece alone,
 * with a sync the test releases, shows exactly which appends share a row and when each is answered.
 * Longer than ~350 lines: the byte-exact storage checks of every message field belong with the
 * appends that write them.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeMessages } from "../../protocol/log-codec.js";
import type { SendStatus, StoredMessage } from "../../protocol/message.js";
import { firstDiff, msg, newQueue } from "../test-support.js";
import { CommitLog } from "./commit-log.js";
import { GroupCommit, type AppendResult } from "./group-commit.js";

const MiB = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function text(body: Uint8Array): string {
  return decoder.decode(body);
}

describe("QueueDO append", () => {
  it("appends with consecutive offsets from 0", async () => {
    const { q } = newQueue();
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
    const { q } = newQueue();
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
    const all = await q.pull({ offset: 0, maxNums: 32 });
    expect(all.entries.map((e) => e.message.msgId)).toEqual(["ID0", "ID1", "ID2"]);
  });

  it("round-trips every message field exactly", async () => {
    const { q } = newQueue();
    const full = msg(7, {
      msgId: "C0A80001000118B4AAC2",
      tags: "TagA",
      keys: ["k1", "k 2", "ключ"],
      properties: { a: "1", UNIQ_KEY: "x", é: "ü" },
      bornTimestamp: 1_700_000_000_123,
      bornHost: "10.0.0.1:5555",
      flag: 3,
      reconsumeTimes: 2,
      body: encoder.encode("hello"),
    });
    const bare = msg(8, { body: new Uint8Array(0) });
    const r = await q.append([full, bare]);
    expect(r.queueOffset).toBe(0);
    const pulled = await q.pull({ offset: 0, maxNums: 32 });
    expect(pulled.pullStatus).toBe("FOUND");
    expect(pulled.entries).toEqual([
      { queueOffset: 0, storeTimestamp: r.storeTimestamp, message: full },
      { queueOffset: 1, storeTimestamp: r.storeTimestamp, message: bare },
    ]);
    expect(pulled.entries[1]!.message.body.length).toBe(0);
  });

  it("gives 50 concurrent appends distinct contiguous offsets with group commit", async () => {
    const { q } = newQueue();
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
    const { q } = newQueue();
    const sizes = Array.from({ length: 30 }, (_, i) => (i % 4) + 1);
    const total = sizes.reduce((s, x) => s + x, 0);
    const results = await Promise.all(sizes.map((size, caller) => q.append(Array.from({ length: size }, (_, j) => msg(caller * 100 + j)))));
    const runs = results.map((r, caller) => ({ start: r.queueOffset, size: sizes[caller]!, caller })).sort((a, b) => a.start - b.start);
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
      state.storage.sql.exec<{ base_offset: number; count: number }>("SELECT base_offset, count FROM log ORDER BY base_offset").toArray(),
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
      const page = await q.pull({ offset, maxNums: 32 });
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
    const { q } = newQueue();
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
      const pulled = await q.pull({ offset: 0, maxNums: 32 });
      expect(pulled.entries.length).toBe(bodies.length);
      pulled.entries.forEach((e, i) => expect(firstDiff(e.message.body, bodies[i]!)).toBe(-1));
      expect(Array.from(pulled.entries[0]!.message.body)).toEqual(Array.from({ length: 256 }, (_, i) => i));
    };
    await check(); // from the in-memory row cache
    await evictDurableObject(q);
    await check(); // decoded again from SQLite
  });

  it("stores a 4 MiB body across log_chunk rows and reads it back exactly", async () => {
    const { q } = newQueue();
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
        .exec<{ base_offset: number; chunk: number; len: number }>("SELECT base_offset, chunk, length(data) AS len FROM log_chunk ORDER BY base_offset, chunk")
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
      const pulled = await q.pull({ offset: 0, maxNums: 32 });
      expect(pulled.pullStatus).toBe("FOUND");
      expect(pulled.nextBeginOffset).toBe(1);
      expect(pulled.entries.length).toBe(1);
      expect(pulled.entries[0]!.message.body.length).toBe(size);
      expect(firstDiff(pulled.entries[0]!.message.body, body)).toBe(-1);

      const after = await q.pull({ offset: 1, maxNums: 32 });
      expect(after.pullStatus).toBe("FOUND");
      expect(after.nextBeginOffset).toBe(2);
      expect(after.entries.map((e) => text(e.message.body))).toEqual(["m1"]);
    };
    await check();
    await evictDurableObject(q);
    await check();
  });
});

/**
 * A GroupCommit over a fresh object's storage, with a durability wait the test releases by hand
 * and a clock fixed at 1000, so every row and every answer is exact.
 */
function harness(state: DurableObjectState, confirmWith: SendStatus = "SEND_OK", storedFails = false) {
  const log = new CommitLog(state.storage.sql, state.storage);
  const syncs: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const events: string[] = [];
  const commits = new GroupCommit({
    log,
    now: () => 1000,
    sync: () => new Promise<void>((resolve, reject) => syncs.push({ resolve, reject })),
    stored: async () => {
      events.push(`stored up to ${log.maxOffset}`);
      if (storedFails) throw new Error("waking parked pulls failed");
    },
    confirm: async (answer) => {
      events.push("confirmed");
      answer(confirmWith);
    },
  });
  /**
   * Lets the flush loop run until it waits again: a macrotask runs after every promise callback
   * queued before it, and the loop's only waits are the syncs the test holds (it has no timers).
   */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  /** An append that goes out alone: its row is written, made durable at once, and answered. */
  const appendDurably = async (messages: StoredMessage[], dedupe: boolean) => {
    const appended = track(commits.append(messages, dedupe));
    await settle();
    syncs.at(-1)!.resolve();
    await settle();
    return appended;
  };
  return { log, syncs, events, commits, settle, appendDurably };
}

/** An append whose answer the test can look at without awaiting it. */
function track(p: Promise<AppendResult>): { result: AppendResult | null; error: string | null } {
  const t: { result: AppendResult | null; error: string | null } = { result: null, error: null };
  p.then(
    (r) => (t.result = r),
    (e: unknown) => (t.error = (e as Error).message),
  );
  return t;
}

describe("GroupCommit alone", () => {
  it("writes every append that arrives while a row becomes durable as the next single row, and answers each once durable", async () => {
    await runInDurableObject(newQueue().q, async (_i, state) => {
      const { log, syncs, events, commits, settle } = harness(state);
      const first = track(commits.append([msg(0)], true));
      await settle();
      expect([log.rowsWritten, syncs.length, first.result]).toEqual([1, 1, null]);

      // Ten sends of two messages each arrive while the first row waits to become durable.
      const rest = Array.from({ length: 10 }, (_, i) => track(commits.append([msg(1 + 2 * i), msg(2 + 2 * i)], true)));
      await settle();
      expect([log.rowsWritten, syncs.length]).toEqual([1, 1]);

      syncs[0]!.resolve();
      await settle();
      expect(first.result).toEqual({ queueOffset: 0, storeTimestamp: 1000 });
      // All ten went into one row, which now waits for its own durability; none is answered yet.
      expect([log.rowsWritten, log.messagesAppended, syncs.length]).toEqual([2, 21, 2]);
      expect(rest.map((t) => t.result)).toEqual(rest.map(() => null));

      syncs[1]!.resolve();
      await settle();
      expect(rest.map((t) => t.result)).toEqual(rest.map((_, i) => ({ queueOffset: 1 + 2 * i, storeTimestamp: 1000 })));
      expect(events).toEqual(["stored up to 1", "confirmed", "stored up to 21", "confirmed"]);
    });
  });

  it("answers a durable group even when what follows storing it (alarm, wake-ups) fails", async () => {
    await runInDurableObject(newQueue().q, async (_i, state) => {
      const { log, events, appendDurably } = harness(state, "SEND_OK", true);
      const sent = await appendDurably([msg(0)], true);
      expect(sent).toEqual({ result: { queueOffset: 0, storeTimestamp: 1000 }, error: null });
      const next = await appendDurably([msg(1)], true);
      expect(next.result).toEqual({ queueOffset: 1, storeTimestamp: 1000 });
      expect([log.rowsWritten, events]).toEqual([2, ["stored up to 1", "confirmed", "stored up to 2", "confirmed"]]);
    });
  });

  it("answers a producer's retry of a recent send with the first result, and stores an admin resend again", async () => {
    await runInDurableObject(newQueue().q, async (_i, state) => {
      const { log, syncs, commits, appendDurably } = harness(state);
      const sent = await appendDurably([msg(0), msg(1)], true);
      expect(syncs).toHaveLength(1);
      expect(sent.result).toEqual({ queueOffset: 0, storeTimestamp: 1000 });

      expect(await commits.append([msg(0), msg(1)], true)).toEqual({ queueOffset: 0, storeTimestamp: 1000 });
      expect(log.rowsWritten).toBe(1);
      // A redelivery (another reconsumeTimes) is not a retry.
      const redelivered = await appendDurably([msg(0, { reconsumeTimes: 1 })], true);
      expect(syncs).toHaveLength(2);
      expect(redelivered.result).toEqual({ queueOffset: 2, storeTimestamp: 1000 });
      const resent = await appendDurably([msg(0)], false);
      expect(syncs).toHaveLength(3);
      expect(resent.result).toEqual({ queueOffset: 3, storeTimestamp: 1000 });
      expect(log.rowsWritten).toBe(3);
    });
  });

  it("appendEach stores independent messages in one row, each with its own offset, and folds a retry of any of them", async () => {
    const { q } = newQueue();
    const first = await q.appendEach([msg(0), msg(1), msg(2)]);
    expect(first.map((r) => r.ok && r.queueOffset)).toEqual([0, 1, 2]);
    expect((await q.stats()).rowsWritten).toBe(1);
    // A retry of the second message (its own msgId) rides with a new one: the retry gets its
    // first offset back, only the new message is stored.
    const again = await q.appendEach([msg(1), msg(3)]);
    expect(again.map((r) => r.ok && r.queueOffset)).toEqual([1, 3]);
    const stats = await q.stats();
    expect([stats.maxOffset, stats.messagesAppended]).toEqual([4, 4]);
    const all = await q.pull({ offset: 0, maxNums: 32 });
    expect(all.entries.map((e) => e.message.msgId)).toEqual(["ID0", "ID1", "ID2", "ID3"]);
  });

  it("fails only the group whose write did not become durable; the next group is stored after it", async () => {
    await runInDurableObject(newQueue().q, async (_i, state) => {
      const { log, syncs, commits, settle } = harness(state);
      const lost = track(commits.append([msg(0)], true));
      await settle();
      const next = track(commits.append([msg(1)], true));
      syncs[0]!.reject(new Error("storage reset"));
      await settle();
      expect([lost.error, lost.result]).toEqual(["storage reset", null]);
      syncs[1]!.resolve();
      await settle();
      expect(next.result).toEqual({ queueOffset: 1, storeTimestamp: 1000 });
      expect(log.rowsWritten).toBe(2);
    });
  });

  it("carries the status the broker role confirms with (a SYNC_MASTER's slave timeout) in every answer of the group", async () => {
    await runInDurableObject(newQueue().q, async (_i, state) => {
      const { appendDurably } = harness(state, "FLUSH_SLAVE_TIMEOUT");
      const a = await appendDurably([msg(0)], true);
      expect(a.result).toEqual({ queueOffset: 0, storeTimestamp: 1000, sendStatus: "FLUSH_SLAVE_TIMEOUT" });
    });
  });
});
