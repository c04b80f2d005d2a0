/**
 * Issue 12 item 1: no message within the documented limits can fail a write, a group commit or
 * an alarm. The worst case of every limit at once (test/fuzz/limit-edge.ts) goes through every
 * write path of a queue object: append (single, batch, group commit), delayed delivery by the
 * alarm, transaction commit, and the rows a replication push reads.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StoredMessage } from "../protocol/message.js";
import { Limits } from "../protocol/limits.js";
import { EDGE_BATCH_SHAPES, edgeBatch, edgeMessage, edgeSingle } from "../test/fuzz/limit-edge.js";
import type { DelayedStore } from "./queue/delayed-store.js";
import type { QueueDO } from "./queue.js";
import type { CommitLog } from "./queue/commit-log.js";
import { migrate } from "./queue/schema.js";
import { msg, newQueue, rejection, storedEdge } from "./test-support.js";

const MiB = 1024 * 1024;
const HOUR = 3600_000;

/** A short, exact summary of a message (deep-equal on megabytes would print megabytes on failure). */
function fingerprint(m: StoredMessage): string {
  let h = 0x811c9dc5;
  const mix = (n: number) => {
    h = Math.imul(h ^ n, 0x01000193);
  };
  const text = JSON.stringify([m.msgId, m.tags, m.keys, m.properties, m.bornTimestamp, m.bornHost, m.flag, m.reconsumeTimes]);
  for (let i = 0; i < text.length; i++) mix(text.charCodeAt(i));
  for (const b of m.body) mix(b);
  return `${m.msgId}:${m.keys.length}k:${m.body.length}b:${(h >>> 0).toString(16)}`;
}

/**
 * Every entry of [from, to), read in the object (a pull returns 32 at most, and rows over the
 * cache size are decoded again per pull), plus one real pull of the first to check that path.
 */
async function readAll(q: DurableObjectStub<QueueDO>, from: number, to: number): Promise<{ queueOffset: number; message: StoredMessage }[]> {
  const out = await runInDurableObject(q, (instance) => {
    const entries: { queueOffset: number; message: StoredMessage }[] = [];
    for (const e of (instance as unknown as { log: CommitLog }).log.read(from)) {
      if (e.queueOffset >= to) break;
      entries.push({ queueOffset: e.queueOffset, message: e.message });
    }
    return entries;
  });
  const pulled = await q.pull({ offset: from, maxNums: 1 });
  expect(pulled.entries.map((e) => fingerprint(e.message))).toEqual(out.slice(0, 1).map((e) => fingerprint(e.message)));
  return out;
}

/** Rows in the key index: first parts and the parts past the first. */
function keyRows(q: DurableObjectStub<QueueDO>): Promise<{ heads: number; chunks: number }> {
  return runInDurableObject(q, (_i, state) => {
    const count = (table: string) => state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
    return { heads: count("row_keys"), chunks: count("row_keys_chunk") };
  });
}

/** Each message is found by its first and last key, at the offset it was stored at. */
async function expectFoundByKeys(q: DurableObjectStub<QueueDO>, expected: { queueOffset: number; message: StoredMessage }[]): Promise<void> {
  const picks = [expected[0]!, expected[Math.floor(expected.length / 2)]!, expected[expected.length - 1]!];
  for (const e of picks) {
    for (const key of [e.message.keys[0]!, e.message.keys[e.message.keys.length - 1]!]) {
      const found = await q.queryKey(key, 0, Number.MAX_SAFE_INTEGER, 64);
      expect(found.map((f) => f.queueOffset)).toEqual([e.queueOffset]);
      expect(fingerprint(found[0]!.message)).toBe(fingerprint(e.message));
    }
  }
}

/**
 * Makes `messages` due now, as if their delay had passed, and keeps workerd's own alarm away so
 * the test runs the handler itself (the store is the same one appendDelayed writes to).
 */
async function dueNow(q: DurableObjectStub<QueueDO>, messages: readonly StoredMessage[]): Promise<void> {
  await runInDurableObject(q, async (instance, state) => {
    const delayed = (instance as unknown as { delayed: DelayedStore }).delayed;
    for (const m of messages) delayed.add(m, Date.now() - 1, 3);
    await state.storage.setAlarm(Date.now() + HOUR);
  });
}

/** Runs the alarm handler until no delayed message is left (each run moves one bounded row). */
async function deliverAll(q: DurableObjectStub<QueueDO>): Promise<void> {
  // workerd's own alarm, re-armed for the rest, may take some runs: count rows, not runs.
  for (let runs = 0; (await q.delayedStats()).count > 0; runs++) {
    if (runs > 50) throw new Error("delayed messages are not moving");
    await runInDurableObject(q, (instance) => instance.alarm());
  }
}

// Megabytes per test, on a shared machine.
describe("QueueDO at the edge of every documented limit (issue 12 item 1)", { timeout: 120_000 }, () => {
  it("item 1: every within-limits batch shape is stored by one append, read back exactly and found by its keys", async () => {
    const { q, mq } = newQueue("L");
    let next = 0;
    for (const shape of EDGE_BATCH_SHAPES) {
      const batch = edgeBatch("W", shape);
      // The shapes really are at the edge: 1,024 messages, 4 MiB of bodies, ~6 MB of keys in one row.
      if (shape === "max count") expect(batch).toHaveLength(Limits.maxBatchCount);
      if (shape === "max bodies") expect(batch.reduce((n, m) => n + m.body.length, 0)).toBe(Limits.maxBatchBodyBytes);
      if (shape === "max keys") expect(batch.reduce((n, m) => n + m.keys.join("").length, 0)).toBeGreaterThan(5 * MiB);
      const messages = batch.map((m, i) => storedEdge(m, `${shape.replace(/\W/g, "")}-${i}`));
      const r = await q.append(messages, { mq });
      expect({ shape, queueOffset: r.queueOffset }).toEqual({ shape, queueOffset: next });
      const back = await readAll(q, next, next + messages.length);
      expect(back.map((e) => fingerprint(e.message))).toEqual(messages.map(fingerprint));
      await expectFoundByKeys(q, back);
      next += messages.length;
    }
    // One first key part per row, the rest in row_keys_chunk.
    const rows = await keyRows(q);
    expect(rows.heads).toBe(EDGE_BATCH_SHAPES.length);
    expect(rows.chunks).toBeGreaterThan(0);
    // Still writable, and offsets stay contiguous.
    expect((await q.append([msg(1)], { mq })).queueOffset).toBe(next);
  });

  it("item 1: key-heavy sends group-committed with small sends of others all succeed, in bounded rows", async () => {
    const { q, mq } = newQueue("L");
    const heavy = edgeBatch("G", "max keys");
    const sends: StoredMessage[][] = [];
    for (let i = 0; i < 12; i++) {
      sends.push(i % 3 === 0 ? heavy.map((m, j) => storedEdge(m, `H${i}-${j}`)) : [msg(i, { msgId: `S${i}`, keys: [`small-${i}`] })]);
    }
    const expected = sends.map((messages) => ({ size: messages.length, first: messages[0]!.msgId }));
    // Sent together inside the object: the first append flushes alone, the rest queue up
    // meanwhile and are group-committed.
    const results = await runInDurableObject(q, (instance) => Promise.all(sends.map((messages) => instance.append(messages, { mq }))));
    // Every send stored, at its own run of offsets, nothing lost or doubled.
    const offsets = results.map((r) => r.queueOffset);
    const total = expected.reduce((n, e) => n + e.size, 0);
    expect((await q.stats()).maxOffset).toBe(total);
    const byOffset = results.map((r, i) => ({ offset: r.queueOffset, ...expected[i]! })).sort((a, b) => a.offset - b.offset);
    let at = 0;
    for (const run of byOffset) {
      expect(run.offset).toBe(at);
      expect((await q.getMessage(run.offset))!.message.msgId).toBe(run.first);
      at += run.size;
    }
    expect(new Set(offsets).size).toBe(offsets.length);
    for (let i = 1; i < 12; i += 3) {
      const found = await q.queryKey(`small-${i}`, 0, Number.MAX_SAFE_INTEGER, 64);
      expect(found.map((f) => f.message.msgId)).toEqual([`S${i}`]);
    }
    // A group stops growing at 4 MiB of stored bytes: no row holds two key-heavy batches.
    const rows = await runInDurableObject(q, (_i, state) =>
      state.storage.sql
        .exec<{ count: number }>("SELECT count FROM log ORDER BY base_offset")
        .toArray()
        .map((r) => r.count),
    );
    expect(rows.every((n) => n <= heavy.length)).toBe(true);
    // Small sends were group-committed together (the group commit was exercised).
    expect(rows.some((n) => n === 2)).toBe(true);
  });

  it("item 1: a send that cannot be stored fails alone, not the sends group-committed with it", async () => {
    const { q, mq } = newQueue("L");
    // A key no edge lets through (3 MB: over one SQLite value even on its own); the queue object
    // must still not let it take down the small sends that share its group commit.
    const poison = msg(1, { msgId: "POISON", keys: ["p".repeat(3_000_000)] });
    // Sent together inside the object: the first append flushes alone, the three others queue
    // up meanwhile and form the next group commit.
    const settled = await runInDurableObject(q, (instance) =>
      Promise.allSettled([
        instance.append([msg(0, { msgId: "FIRST" })], { mq }),
        instance.append([msg(2, { msgId: "BEFORE", keys: ["b"] })], { mq }),
        instance.append([poison], { mq }),
        instance.append([msg(3, { msgId: "AFTER" })], { mq }),
      ]).then((all) => all.map((r) => r.status)),
    );
    expect(settled).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const all = await readAll(q, 0, 3);
    expect(all.map((e) => e.message.msgId)).toEqual(["FIRST", "BEFORE", "AFTER"]);
    expect((await q.queryKey("b", 0, Number.MAX_SAFE_INTEGER, 64)).map((e) => e.queueOffset)).toEqual([1]);
    expect((await q.append([msg(4)], { mq })).queueOffset).toBe(3);
  });

  it("item 1: the alarm moves 150 due delayed messages at every limit into the log and keeps them findable by key", async () => {
    const { q, mq } = newQueue("L");
    expect((await q.append([msg(0)], { mq })).queueOffset).toBe(0);
    const messages = Array.from({ length: 150 }, (_, i) => storedEdge(edgeMessage("D", i), `D${i}`));
    // 150 × (64 keys of 255 characters, a full properties block): ~2.4 MB of keys due at once.
    await dueNow(q, messages);
    await deliverAll(q);
    expect(await q.delayedStats()).toEqual({ count: 0, byLevel: {}, nextDueAt: null });
    const back = await readAll(q, 1, 151);
    expect(back.map((e) => fingerprint(e.message))).toEqual(messages.map(fingerprint));
    await expectFoundByKeys(q, back);
    expect((await q.append([msg(1)], { mq })).queueOffset).toBe(151);
  });

  it("item 1: delayed messages with 4 MiB bodies beside full properties blocks move one bounded row at a time", async () => {
    const { q, mq } = newQueue("L");
    await q.append([msg(0)], { mq });
    const messages = [0, 1, 2].map((i) => storedEdge(edgeSingle("DB", i), `DB${i}`));
    await dueNow(q, messages);
    await deliverAll(q);
    // One message per row: two would pass the 4 MiB a row takes from the alarm.
    const counts = await runInDurableObject(q, (_i, state) =>
      state.storage.sql
        .exec<{ count: number }>("SELECT count FROM log WHERE base_offset > 0 ORDER BY base_offset")
        .toArray()
        .map((r) => r.count),
    );
    expect(counts).toEqual([1, 1, 1]);
    const back = await readAll(q, 1, 4);
    expect(back.map((e) => fingerprint(e.message))).toEqual(messages.map(fingerprint));
    await expectFoundByKeys(q, back);
  });

  it("item 1: a transaction commit of a message at every limit is stored and found by key", async () => {
    const { q, mq } = newQueue("L");
    const pg = `PG-${crypto.randomUUID()}`;
    const half = storedEdge(edgeSingle("TX"), "TXEDGE");
    half.properties = { ...half.properties, TRAN_MSG: "true", PGROUP: pg };
    await q.prepareHalf(mq, half, pg, Date.now() + HOUR);
    const r = await q.endTransaction("TXEDGE", pg, "COMMIT_MESSAGE");
    expect(r).toEqual({ transactionId: "TXEDGE", state: "COMMITTED", queueOffset: 0 });
    const back = await readAll(q, 0, 1);
    const { TRAN_MSG: _t, PGROUP: _p, ...visible } = half.properties;
    expect(fingerprint(back[0]!.message)).toBe(fingerprint({ ...half, properties: visible }));
    await expectFoundByKeys(q, back);
  });

  it("item 1: a replication push reads rows within its byte budget, counting overflow chunks and keys", async () => {
    const { q, mq } = newQueue("L");
    // Three rows of 3 MiB of data each, then three rows of ~6 MB of keys each.
    for (let i = 0; i < 3; i++) await q.append([storedEdge(edgeMessage("RB", i, { bodyBytes: 3 * MiB, fillProperties: false }), `RB${i}`)], { mq });
    const heavy = edgeBatch("RK", "max keys");
    for (let i = 0; i < 3; i++)
      await q.append(
        heavy.map((m, j) => storedEdge(m, `RK${i}-${j}`)),
        { mq },
      );
    const pushes = await runInDurableObject(q, (instance) => {
      const log = (instance as unknown as { log: CommitLog }).log;
      const read = (from: number) => log.rawRows(from, 256, 8 * MiB);
      const bodies = read(0);
      const keyed = read(3);
      return {
        bodies: bodies.map((r) => r.baseOffset),
        keyed: keyed.map((r) => ({ baseOffset: r.baseOffset, keysBytes: r.keys?.length ?? 0 })),
      };
    });
    // 3 + 3 MiB fit in 8 MiB, a third would not (its overflow chunks count, not just the first MiB).
    expect(pushes.bodies).toEqual([0, 1]);
    // The first row always goes; the second would pass 8 MiB once its keys count.
    expect(pushes.keyed).toEqual([{ baseOffset: 3, keysBytes: expect.any(Number) }]);
    expect(pushes.keyed[0]!.keysBytes).toBeGreaterThan(5 * MiB);
  });

  it("item 1: queues stored before the key split keep working after the migration (schema v7 to v8)", async () => {
    const { q, mq } = newQueue("L");
    await q.append([msg(0, { keys: ["old-a", "old-b"] })], { mq });
    // Back to a v7 store: no row_keys_chunk table; then the migration runs again, as on a deploy.
    await runInDurableObject(q, (_i, state) => {
      const sql = state.storage.sql;
      const version = () => sql.exec<{ value: number }>("SELECT value FROM _meta WHERE key = 'schema_version'").one().value;
      const latest = version(); // 8 or later: later migrations only add their own tables
      sql.exec("DROP TABLE row_keys_chunk");
      sql.exec("UPDATE _meta SET value = 7 WHERE key = 'schema_version'");
      migrate(sql);
      expect(version()).toBe(latest);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM row_keys_chunk").one().n).toBe(0);
    });
    expect((await q.queryKey("old-b", 0, Number.MAX_SAFE_INTEGER, 64)).map((e) => e.queueOffset)).toEqual([0]);
    const heavy = edgeBatch("M", "max keys").map((m, i) => storedEdge(m, `M${i}`));
    expect((await q.append(heavy, { mq })).queueOffset).toBe(1);
    await expectFoundByKeys(q, await readAll(q, 1, 1 + heavy.length));
    expect((await q.queryKey("old-a", 0, Number.MAX_SAFE_INTEGER, 64)).map((e) => e.queueOffset)).toEqual([0]);
  });

  it("item 1: retention drops a row's key parts with it", async () => {
    const { q, mq } = newQueue("L");
    const heavy = edgeBatch("T", "max keys").map((m, i) => storedEdge(m, `T${i}`));
    await q.append(heavy, { mq });
    await q.append([msg(0, { keys: ["kept"] })], { mq });
    expect((await keyRows(q)).chunks).toBeGreaterThan(0);
    expect(await q.truncateBefore(heavy.length)).toBe(heavy.length);
    expect(await keyRows(q)).toEqual({ heads: 1, chunks: 0 });
    expect(await q.queryKey(heavy[0]!.keys[0]!, 0, Number.MAX_SAFE_INTEGER, 64)).toEqual([]);
    expect((await q.queryKey("kept", 0, Number.MAX_SAFE_INTEGER, 64)).map((e) => e.queueOffset)).toEqual([heavy.length]);
  });

  it("item 1: a query by key answers at most 4 MiB of bodies per queue (at least one message), so the answer fits an RPC", async () => {
    const { q, mq } = newQueue("L");
    // Three 3 MiB messages sharing a key (within every limit; 11 of 4 MiB would pass an RPC's 32 MiB).
    for (let i = 0; i < 3; i++) await q.append([msg(i, { msgId: `Q${i}`, keys: ["shared"], body: new Uint8Array(3 * MiB) })], { mq });
    const found = await q.queryKey("shared", 0, Number.MAX_SAFE_INTEGER, 64);
    expect(found.map((e) => e.queueOffset)).toEqual([0]);
    expect(found[0]!.message.body.length).toBe(3 * MiB);
  });

  it("item 1: an append beyond one SQLite value fails with nothing stored, and the queue stays writable", async () => {
    const { q, mq } = newQueue("L");
    await rejection(q.append([msg(0, { keys: ["p".repeat(3_000_000)] })], { mq }));
    expect((await q.stats()).maxOffset).toBe(0);
    expect((await q.append([msg(1)], { mq })).queueOffset).toBe(0);
  });
});
