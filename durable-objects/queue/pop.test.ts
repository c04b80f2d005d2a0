/**
 * POP on the queue object (pop.ts through the QueueDO facade): receive, batch ack and change of
 * invisibility over RPC, the codes for stale handles, bad durations and mixed consume modes, one
 * row written per receive and per ack call, redelivery once invisibility and the ladder's delay
 * pass (on an injected clock), and the alarm pointing at the next visible time, or at nothing.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { holdPopReceive, holdPopReceiveAcross } from "../../cluster/long-polls.js";
import { alarmOf, msg, newQueue, rowCountingSql, waitForParked } from "../test-support.js";
import type { CommitLog } from "./commit-log.js";
import { Pop } from "./pop.js";
import { SHARDING_KEY_PROPERTY } from "./pop-state.js";

const INVISIBLE = 30_000;

/** The message of an RPC call's refusal (awaited in try/catch: an RPC promise given to `rejects` goes unhandled). */
async function refusal(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (e) {
    return (e as Error).message;
  }
  return "no refusal";
}
/** Delay level 3 of the default table: the ladder's wait after a first delivery timed out. */
const LADDER_FIRST_MS = 10_000;

describe("QueueDO POP", () => {
  it("hands out visible messages once, acks a batch and answers stale and unknown handles with codes", async () => {
    const { q } = newQueue("POP");
    await q.append([0, 1, 2, 3, 4].map((i) => msg(i)));
    const first = await q.popReceive("G", { maxNum: 3, invisibleDurationMs: INVISIBLE });
    expect(first.messages.map((m) => [m.entry.queueOffset, m.entry.message.msgId, m.nonce, m.reconsumeTimes])).toEqual([
      [0, "ID0", 1, 0],
      [1, "ID1", 2, 0],
      [2, "ID2", 3, 0],
    ]);
    expect(first.maxOffset).toBe(5);
    const second = await q.popReceive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE });
    expect(second.messages.map((m) => m.entry.queueOffset)).toEqual([3, 4]);
    expect((await q.popReceive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE })).messages).toEqual([]);
    // Another group receives everything on its own.
    expect((await q.popReceive("OTHER", { maxNum: 32, invisibleDurationMs: INVISIBLE })).messages).toHaveLength(5);

    const outcomes = await q.popAck("G", [
      { offset: 0, nonce: 1 },
      { offset: 1, nonce: 2 },
      { offset: 2, nonce: 99 },
    ]);
    expect(outcomes).toEqual(["OK", "OK", "RECEIPT_HANDLE_INVALID"]);
    expect(await q.popAck("G", [{ offset: 0, nonce: 1 }])).toEqual(["RECEIPT_HANDLE_INVALID"]);
    expect(await q.popAck("NEVER", [{ offset: 0, nonce: 1 }])).toEqual(["RECEIPT_HANDLE_INVALID"]);

    const changed = await q.popChangeInvisible("G", { offset: 2, nonce: 3 }, 60_000);
    expect(changed.outcome).toBe("OK");
    expect(changed.nonce).toBe(6);
    expect(await q.popChangeInvisible("G", { offset: 2, nonce: 3 }, 60_000)).toEqual({ outcome: "RECEIPT_HANDLE_EXPIRED" });
    expect(await q.popAck("G", [{ offset: 2, nonce: 3 }])).toEqual(["RECEIPT_HANDLE_EXPIRED"]);
    expect(await q.popAck("G", [{ offset: 2, nonce: 6 }])).toEqual(["OK"]);
  });

  it("refuses invisible durations outside 10 s - 12 h and more than 32 messages", async () => {
    const { q } = newQueue("POP");
    expect(await refusal(() => q.popReceive("G", { maxNum: 1, invisibleDurationMs: 9_999 }))).toMatch(/^\[INVISIBLE_DURATION_ILLEGAL\] /);
    expect(await refusal(() => q.popReceive("G", { maxNum: 1, invisibleDurationMs: 12 * 3600_000 + 1 }))).toMatch(/^\[INVISIBLE_DURATION_ILLEGAL\] /);
    expect(await refusal(() => q.popReceive("G", { maxNum: 33, invisibleDurationMs: INVISIBLE }))).toMatch(/^\[VALIDATION_FAILED\] /);
    expect(await refusal(() => q.popChangeInvisible("G", { offset: 0, nonce: 1 }, 1_000))).toMatch(/^\[INVISIBLE_DURATION_ILLEGAL\] /);
  });

  it("refuses mixing POP and offset consumption for one group", async () => {
    const { q } = newQueue("POP");
    await q.append([msg(0), msg(1)]);
    await q.commitOffset("PUSHED", 1);
    expect(await refusal(() => q.popReceive("PUSHED", { maxNum: 1, invisibleDurationMs: INVISIBLE }))).toMatch(/^\[CONSUME_MODE_MISMATCH\] /);
    await q.popReceive("POPPED", { maxNum: 1, invisibleDurationMs: INVISIBLE });
    expect(await refusal(() => q.commitOffset("POPPED", 1))).toMatch(/^\[CONSUME_MODE_MISMATCH\] /);

    // A receive that found nothing leaves no POP state; offsets stored after it (an admin reset)
    // are seen by the next receive, though the queue remembers offsets it has read.
    const empty = newQueue("POP").q;
    expect(await empty.popReceive("LATER", { maxNum: 1, invisibleDurationMs: INVISIBLE })).toMatchObject({ messages: [] });
    await empty.resetOffset("LATER", 0, 1);
    expect(await refusal(() => empty.popReceive("LATER", { maxNum: 1, invisibleDurationMs: INVISIBLE }))).toMatch(/^\[CONSUME_MODE_MISMATCH\] /);
  });

  it("points the alarm at the next visible time, and at nothing once everything is acked", async () => {
    const { q } = newQueue("POP");
    await q.append([msg(0), msg(1)]);
    const got = await q.popReceive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE });
    expect(await alarmOf(q)).toBe(got.messages[0]!.invisibleUntil + LADDER_FIRST_MS);
    // An early run (alarms are at-least-once) changes nothing and keeps the alarm.
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await alarmOf(q)).toBe(got.messages[0]!.invisibleUntil + LADDER_FIRST_MS);
    expect(
      await q.popAck(
        "G",
        got.messages.map((m) => ({ offset: m.entry.queueOffset, nonce: m.nonce })),
      ),
    ).toEqual(["OK", "OK"]);
    expect(await runDurableObjectAlarm(q)).toBe(true);
    expect(await alarmOf(q)).toBeNull();
  });

  it("writes one row per receive and per batch ack, and hands unacked messages out again after invisibility and the ladder", async () => {
    const { q } = newQueue("POP");
    await q.append(Array.from({ length: 40 }, (_, i) => msg(i)));
    await runInDurableObject(q, (instance, state) => {
      // Counts rows written by every statement the piece runs.
      const { sql: counting, counter } = rowCountingSql(state.storage.sql);
      let clock = 1_000_000;
      const log = (instance as unknown as { log: CommitLog }).log;
      const pop = new Pop({ sql: counting, log, usesOffsets: () => false, delayLevelsMs: () => [1000, 5000, 10_000, 30_000], now: () => clock });

      const first = pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE });
      expect(first.messages).toHaveLength(32);
      expect(counter.written).toBe(1);
      const second = pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE });
      expect(second.messages.map((m) => m.entry.queueOffset)).toEqual([32, 33, 34, 35, 36, 37, 38, 39]);
      expect(counter.written).toBe(2);
      expect(pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE }).messages).toEqual([]);
      expect(counter.written).toBe(2); // nothing changed, nothing written

      const outcomes = pop.ack(
        "G",
        first.messages.map((m) => ({ offset: m.entry.queueOffset, nonce: m.nonce })),
      );
      expect(outcomes.every((o) => o === "OK")).toBe(true);
      expect(counter.written).toBe(3);

      clock += INVISIBLE + LADDER_FIRST_MS - 1;
      expect(pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE }).messages).toEqual([]);
      expect(pop.nextDueAt()).toBe(clock + 1);
      clock += 1;
      expect(pop.wakeDue(clock)).toBe(true);
      expect(pop.nextDueAt()).toBeNull();
      const again = pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE });
      // The delivery count is the answer's; the entry is the message as the log holds it.
      expect(again.messages.map((m) => [m.entry.queueOffset, m.reconsumeTimes, m.entry.message.reconsumeTimes])).toEqual(
        [32, 33, 34, 35, 36, 37, 38, 39].map((o) => [o, 1, 0]),
      );
      expect(counter.written).toBe(5); // the wake moved one due time, the receive wrote one row
      // The second delivery's wait is the ladder's next level (30 s).
      expect(pop.nextDueAt()).toBe(clock + INVISIBLE + 30_000);
      // The handles of the first delivery are spent.
      expect(pop.ack("G", [{ offset: 32, nonce: second.messages[0]!.nonce }])).toEqual(["RECEIPT_HANDLE_EXPIRED"]);
    });
  });

  it("a receive that carries the acks of the batch before writes one row for both and answers each handle", async () => {
    const { q } = newQueue("POP");
    await q.append(Array.from({ length: 40 }, (_, i) => msg(i)));
    await runInDurableObject(q, (instance, state) => {
      const { sql: counting, counter } = rowCountingSql(state.storage.sql);
      const log = (instance as unknown as { log: CommitLog }).log;
      const pop = new Pop({ sql: counting, log, usesOffsets: () => false, delayLevelsMs: () => [1000, 5000, 10_000, 30_000], now: () => 1_000_000 });
      // A group never seen here: its handles are invalid, and the receive alone writes the row.
      const first = pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE, ack: [{ offset: 0, nonce: 1 }] });
      expect(first.ackOutcomes).toEqual(["RECEIPT_HANDLE_INVALID"]);
      expect(first.messages).toHaveLength(32);
      expect(counter.written).toBe(1);

      const handles = first.messages.map((m) => ({ offset: m.entry.queueOffset, nonce: m.nonce }));
      const second = pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE, ack: [...handles, { offset: 0, nonce: 99 }] });
      expect(second.ackOutcomes).toEqual([...handles.map(() => "OK"), "RECEIPT_HANDLE_INVALID"]);
      expect(second.messages.map((m) => m.entry.queueOffset)).toEqual([32, 33, 34, 35, 36, 37, 38, 39]);
      expect(counter.written).toBe(2); // the ack and the receive: one row
      expect(pop.inflight("G").map((m) => m.offset)).toEqual([32, 33, 34, 35, 36, 37, 38, 39]);

      // Only acks, nothing left to hand out: still one row, for the acks.
      const third = pop.receive("G", {
        maxNum: 32,
        invisibleDurationMs: INVISIBLE,
        ack: second.messages.map((m) => ({ offset: m.entry.queueOffset, nonce: m.nonce })),
      });
      expect(third.messages).toEqual([]);
      expect(third.ackOutcomes?.every((o) => o === "OK")).toBe(true);
      expect(counter.written).toBe(3);
      expect(pop.inflight("G")).toEqual([]);
      // Spent handles carried again change nothing and write nothing.
      expect(pop.receive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE, ack: [handles[0]!] }).ackOutcomes).toEqual(["RECEIPT_HANDLE_INVALID"]);
      expect(counter.written).toBe(3);
    });
  });

  it("a parked receive of an orderly group is woken by the ack that frees its message group", async () => {
    const { q } = newQueue("POP");
    const keyed = { properties: { [SHARDING_KEY_PROPERTY]: "k" } };
    await q.append([msg(0, keyed), msg(1, keyed)]);
    const req = { maxNum: 32, invisibleDurationMs: INVISIBLE, orderly: true };
    const first = await q.popReceive("G", { ...req, maxNum: 1 });
    expect(first.messages.map((m) => m.entry.queueOffset)).toEqual([0]);
    const held = holdPopReceive(q, "G", req, { maxWaitMs: 10_000, account: "" });
    await waitForParked(q, 1);
    expect(await q.popAck("G", [{ offset: 0, nonce: first.messages[0]!.nonce }])).toEqual(["OK"]);
    expect((await held).messages.map((m) => m.entry.queueOffset)).toEqual([1]);
  });

  it("a parked receive is woken by the alarm when a held message becomes visible again", async () => {
    const { q } = newQueue("POP");
    await q.append([msg(0)]);
    // Only Date is faked: the object runs in this isolate, so its clock reads the faked time.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      const first = await q.popReceive("G", { maxNum: 32, invisibleDurationMs: INVISIBLE });
      const visibleAt = first.messages[0]!.invisibleUntil + LADDER_FIRST_MS;
      const held = holdPopReceive(q, "G", { maxNum: 32, invisibleDurationMs: INVISIBLE }, { maxWaitMs: 10_000, account: "" });
      await waitForParked(q, 1);
      vi.setSystemTime(visibleAt);
      expect(await runDurableObjectAlarm(q)).toBe(true);
      const again = await held;
      expect(again.messages.map((m) => [m.entry.queueOffset, m.reconsumeTimes])).toEqual([[0, 1]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a receive across queues takes what is left of maxNum from each in turn, and parks on all of them", async () => {
    const a = newQueue("POP").q;
    const b = newQueue("POP").q;
    const req = { maxNum: 4, invisibleDurationMs: INVISIBLE };
    const hold = { maxWaitMs: 10_000, account: "" };
    await a.append([msg(0), msg(1), msg(2)]);
    await b.append([msg(10), msg(11), msg(12)]);
    const first = await holdPopReceiveAcross([a, b], "G", req, hold);
    expect(first.map((r) => [r.index, r.answer.messages.map((m) => m.entry.message.msgId)])).toEqual([
      [0, ["ID0", "ID1", "ID2"]],
      [1, ["ID10"]],
    ]);
    const second = await holdPopReceiveAcross([a, b], "G", req, hold);
    expect(second.map((r) => [r.index, r.answer.messages.map((m) => m.entry.message.msgId)])).toEqual([[1, ["ID11", "ID12"]]]);

    const parked = holdPopReceiveAcross([a, b], "G", req, hold);
    await waitForParked(a, 1);
    await waitForParked(b, 1);
    await b.append([msg(13)]);
    expect((await parked).map((r) => [r.index, r.answer.messages.map((m) => m.entry.message.msgId)])).toEqual([[1, ["ID13"]]]);
    // The other queue's socket was let go.
    await waitForParked(a, 0);
    expect(await holdPopReceiveAcross([a, b], "G", req, { maxWaitMs: 0, account: "" })).toEqual([]);
  });
});
