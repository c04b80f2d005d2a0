import { describe, expect, it } from "vitest";
import type { LogEntry } from "./commit-log.js";
import {
  applyRound,
  EMPTY_PUSH_STATE,
  planRound,
  pushDueAt,
  throttleBackoffMs,
  type BatchOutcome,
  type PlanLog,
  type PushPolicy,
  type PushState,
} from "./push-plan.js";

const LADDER = [10_000, 30_000, 60_000];
const policy = (over: Partial<PushPolicy> = {}): PushPolicy => ({
  orderly: false,
  maxBatchSize: 3,
  maxBatchTimeoutMs: 1000,
  maxConcurrency: 1,
  maxRetries: 2,
  delayMs: (n) => LADDER[Math.min(n, LADDER.length - 1)]!,
  maxRetryBacklog: 100,
  maxBatchBytes: 1 << 20,
  maxScan: 2000,
  ...over,
});

/** A log of `n` messages stored at time 0, msgIds m0..m(n-1); `tags` marks some for filters. */
function logOf(n: number, storeTs = 0): PlanLog {
  const entries: LogEntry[] = Array.from({ length: n }, (_, i) => ({
    queueOffset: i,
    storeTimestamp: storeTs,
    message: {
      msgId: `m${i}`,
      tags: i % 2 ? "odd" : "even",
      keys: [],
      properties: {},
      bornTimestamp: 0,
      bornHost: "",
      flag: 0,
      reconsumeTimes: 0,
      body: new Uint8Array(1),
    },
  }));
  return {
    minOffset: 0,
    maxOffset: n,
    get: (o) => entries[o],
    *read(o) {
      yield* entries.slice(o);
    },
  };
}

const all = () => true;
const ids = (batch: { entries: LogEntry[] }) => batch.entries.map((e) => e.message.msgId);
const ok = (...retry: string[]): BatchOutcome => ({ kind: "answered", retry: new Set(retry) });
const failed: BatchOutcome = { kind: "failed", error: "500" };

describe("push plan: batching", () => {
  it("waits for a full batch or the batch timeout, whichever first", () => {
    const log = logOf(2, 5000);
    expect(pushDueAt(EMPTY_PUSH_STATE, 0, log, policy(), 5000)).toBe(6000);
    expect(planRound(EMPTY_PUSH_STATE, 0, log, policy(), 5999, all).batches).toEqual([]);
    expect(planRound(EMPTY_PUSH_STATE, 0, log, policy(), 6000, all).batches.map(ids)).toEqual([["m0", "m1"]]);
    expect(pushDueAt(EMPTY_PUSH_STATE, 0, logOf(3, 5000), policy(), 5000)).toBe(5000);
  });

  it("has no due time when caught up (an idle subscription arms no alarm)", () => {
    expect(pushDueAt(EMPTY_PUSH_STATE, 4, logOf(4), policy(), 100)).toBeNull();
  });

  it("cuts maxConcurrency batches of maxBatchSize from the cursor in offset order", () => {
    const round = planRound(EMPTY_PUSH_STATE, 1, logOf(10), policy({ maxConcurrency: 2 }), 0, all);
    expect(round.batches.map(ids)).toEqual([
      ["m1", "m2", "m3"],
      ["m4", "m5", "m6"],
    ]);
    expect(round.scannedTo).toBe(7);
  });

  it("skips messages the filter rejects, and passes a range of only rejected ones", () => {
    const odd = (e: LogEntry) => e.message.tags === "odd";
    expect(planRound(EMPTY_PUSH_STATE, 0, logOf(7), policy(), 0, odd).batches.map(ids)).toEqual([["m1", "m3", "m5"]]);
    const round = planRound(EMPTY_PUSH_STATE, 0, logOf(4), policy(), 5000, () => false);
    expect(round.batches).toEqual([]);
    expect(applyRound(EMPTY_PUSH_STATE, round, [], policy(), 5000).cursor).toBe(4);
  });
});

describe("push plan: retries and dead letters", () => {
  it("commits past a batch, remembers the failed messages with the ladder's delay, and dead-letters after maxRetries + 1 failures", () => {
    const log = logOf(3);
    const p = policy();
    let state: PushState = EMPTY_PUSH_STATE;
    let round = planRound(state, 0, log, p, 0, all);
    let applied = applyRound(state, round, [ok("m1")], p, 100);
    expect(applied.cursor).toBe(3);
    expect(applied.state.retries).toEqual([{ offset: 1, attempts: 1, dueAt: 100 + 10_000 }]);
    expect(applied.state.delivered).toBe(2);
    state = applied.state;

    expect(pushDueAt(state, 3, log, p, 200)).toBe(10_100);
    expect(planRound(state, 3, log, p, 10_099, all).batches).toEqual([]);
    round = planRound(state, 3, log, p, 10_100, all);
    expect(round.batches.map((b) => [ids(b), b.attempts])).toEqual([[["m1"], [1]]]);
    applied = applyRound(state, round, [failed], p, 10_100);
    expect(applied.state.retries).toEqual([{ offset: 1, attempts: 2, dueAt: 10_100 + 30_000 }]);
    state = applied.state;

    round = planRound(state, 3, log, p, 40_100, all);
    applied = applyRound(state, round, [ok("m1")], p, 40_100);
    expect(applied.deadLetters.map((d) => [d.entry.message.msgId, d.attempts])).toEqual([["m1", 3]]);
    expect(applied.state.retries).toEqual([]);
    expect(applied.state.deadLettered).toBe(1);
    expect(pushDueAt(applied.state, 3, log, p, 40_100)).toBeNull();
  });

  it("a fixed retryDelayMs replaces the ladder", () => {
    const p = policy({ delayMs: () => 500 });
    const round = planRound(EMPTY_PUSH_STATE, 0, logOf(1), p, 5000, all);
    expect(applyRound(EMPTY_PUSH_STATE, round, [failed], p, 5000).state.retries).toEqual([{ offset: 0, attempts: 1, dueAt: 5500 }]);
  });

  it("a throttled batch (429/503) is not a failure: nothing is committed or counted, the subscription backs off", () => {
    const p = policy({ maxConcurrency: 2 });
    const round = planRound(EMPTY_PUSH_STATE, 0, logOf(6), p, 0, all);
    const applied = applyRound(EMPTY_PUSH_STATE, round, [ok(), { kind: "throttled", error: "429", retryAfterMs: 2000 }], p, 50);
    expect(applied.cursor).toBe(3);
    expect(applied.state.retries).toEqual([]);
    expect(applied.state.backoffUntil).toBe(2050);
    expect(applied.state.lastError).toEqual({ at: 50, message: "429" });
    expect(planRound(applied.state, 3, logOf(6), p, 2049, all).batches).toEqual([]);
    expect(throttleBackoffMs(1, null)).toBe(1000);
    expect(throttleBackoffMs(3, null)).toBe(4000);
    expect(throttleBackoffMs(20, null)).toBe(60_000);
  });

  it("stops reading new messages while the retry backlog is full", () => {
    const p = policy({ maxRetryBacklog: 1 });
    const state: PushState = { ...EMPTY_PUSH_STATE, retries: [{ offset: 0, attempts: 1, dueAt: 99_999 }] };
    expect(planRound(state, 1, logOf(5), p, 0, all).batches).toEqual([]);
    expect(pushDueAt(state, 1, logOf(5), p, 0)).toBe(99_999);
  });
});

describe("push plan: orderly", () => {
  it("stops the cursor at the first failed message and redelivers from it, in order, after its delay", () => {
    const p = policy({ orderly: true });
    const log = logOf(5);
    let round = planRound(EMPTY_PUSH_STATE, 0, log, p, 0, all);
    expect(round.batches.map(ids)).toEqual([["m0", "m1", "m2"]]);
    let applied = applyRound(EMPTY_PUSH_STATE, round, [ok("m1")], p, 0);
    expect(applied.cursor).toBe(1);
    expect(applied.state.retries).toEqual([{ offset: 1, attempts: 1, dueAt: 10_000 }]);
    // Nothing of the queue goes out before the head's retry is due, not even new messages.
    expect(pushDueAt(applied.state, 1, log, p, 0)).toBe(10_000);
    expect(planRound(applied.state, 1, log, p, 9_999, all).batches).toEqual([]);
    round = planRound(applied.state, 1, log, p, 10_000, all);
    expect(round.batches.map((b) => [ids(b), b.attempts])).toEqual([
      [
        ["m1", "m2", "m3"],
        [1, 0, 0],
      ],
    ]);
    applied = applyRound(applied.state, round, [ok()], p, 10_000);
    expect(applied.cursor).toBe(4);
    expect(applied.state.retries).toEqual([]);
  });

  it("dead-letters the head after maxRetries + 1 failures and goes on with the next", () => {
    const p = policy({ orderly: true, maxRetries: 0 });
    const round = planRound(EMPTY_PUSH_STATE, 0, logOf(3), p, 0, all);
    const applied = applyRound(EMPTY_PUSH_STATE, round, [ok("m0", "m2")], p, 0);
    expect(applied.deadLetters.map((d) => d.entry.message.msgId)).toEqual(["m0", "m2"]);
    expect(applied.cursor).toBe(3);
  });

  it("a whole-batch failure keeps the batch for the retry, counting an attempt for each message", () => {
    const p = policy({ orderly: true });
    const round = planRound(EMPTY_PUSH_STATE, 0, logOf(2, 0), p, 5000, all);
    const applied = applyRound(EMPTY_PUSH_STATE, round, [failed], p, 5000);
    expect(applied.cursor).toBe(0);
    expect(applied.state.retries).toEqual([
      { offset: 0, attempts: 1, dueAt: 15_000 },
      { offset: 1, attempts: 1, dueAt: 15_000 },
    ]);
    expect(applied.state.lastError).toEqual({ at: 5000, message: "500" });
  });
});
