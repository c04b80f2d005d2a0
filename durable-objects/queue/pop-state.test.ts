/**
 * POP decisions (pop-state.ts) over an in-memory log: what a receive hands out and when it hands
 * a message out again, what acks and changes of invisibility do with current, stale and unknown
 * handles, filters, the in-flight cap and orderly (FIFO) message groups.
 */
import { describe, expect, it } from "vitest";
import { buildFilter } from "../../protocol/message-filter.js";
import { msg } from "../test-support.js";
import type { LogEntry } from "./commit-log.js";
import { ack, changeInvisible, nextVisibleAt, receive, SHARDING_KEY_PROPERTY, type PopState, type ReceiveOptions } from "./pop-state.js";

const T0 = 1_000_000;
const INVISIBLE = 30_000;
const LADDER = 10_000;

function logOf(entries: LogEntry[]) {
  return {
    read: (offset: number) => entries.filter((e) => e.queueOffset >= offset),
    get: (offset: number) => entries.find((e) => e.queueOffset === offset),
  };
}

function entries(n: number, props: (i: number) => Record<string, string> = () => ({}), tags: (i: number) => string = () => ""): LogEntry[] {
  return Array.from({ length: n }, (_, i) => ({ queueOffset: i, storeTimestamp: 1, message: msg(i, { properties: props(i), tags: tags(i) }) }));
}

function opts(over: Partial<ReceiveOptions> = {}): ReceiveOptions {
  return {
    now: T0,
    maxNum: 32,
    invisibleDurationMs: INVISIBLE,
    filter: buildFilter(undefined, undefined),
    orderly: false,
    maxReconsumeTimes: 16,
    deadLetterClaimMs: 60_000,
    retryDelayMs: () => LADDER,
    maxInflight: 2048,
    maxScan: 2000,
    minOffset: 0,
    ...over,
  };
}

const EMPTY: PopState = { cursor: 0, nonce: 0, inflight: [] };
const offsetsOf = (r: { received: { entry: LogEntry }[] }) => r.received.map((x) => x.entry.queueOffset);

describe("POP receive", () => {
  it("hands out up to maxNum new messages, then nothing while they are invisible", () => {
    const log = logOf(entries(5));
    const first = receive(EMPTY, log, opts({ maxNum: 3 }));
    expect(offsetsOf(first)).toEqual([0, 1, 2]);
    expect(first.state.cursor).toBe(3);
    expect(first.received.map((r) => r.handed)).toEqual(
      [0, 1, 2].map((o) => ({
        offset: o,
        nonce: o + 1,
        invisibleUntil: T0 + INVISIBLE,
        visibleAt: T0 + INVISIBLE + LADDER,
        reconsumeTimes: 0,
        firstReceivedAt: T0,
      })),
    );
    const second = receive(first.state, log, opts({ now: T0 + 1 }));
    expect(offsetsOf(second)).toEqual([3, 4]);
    const third = receive(second.state, log, opts({ now: T0 + 2 }));
    expect(third.received).toEqual([]);
    expect(third.changed).toBe(false);
  });

  it("hands a message out again only after invisibility plus the ladder's delay, with reconsumeTimes + 1 and a new nonce", () => {
    const log = logOf(entries(2));
    const first = receive(EMPTY, log, opts());
    expect(receive(first.state, log, opts({ now: T0 + INVISIBLE })).received).toEqual([]);
    expect(receive(first.state, log, opts({ now: T0 + INVISIBLE + LADDER - 1 })).received).toEqual([]);
    const again = receive(first.state, log, opts({ now: T0 + INVISIBLE + LADDER }));
    expect(offsetsOf(again)).toEqual([0, 1]);
    expect(again.received.map((r) => [r.handed.reconsumeTimes, r.handed.nonce, r.handed.firstReceivedAt])).toEqual([
      [1, 3, T0],
      [1, 4, T0],
    ]);
    expect(again.state.inflight).toHaveLength(2);
  });

  it("stops handing out a message past maxReconsumeTimes", () => {
    const log = logOf(entries(1));
    let state = EMPTY;
    let now = T0;
    for (let times = 0; times <= 2; times++) {
      const r = receive(state, log, opts({ now, maxReconsumeTimes: 2 }));
      expect(r.received.map((x) => x.handed.reconsumeTimes)).toEqual([times]);
      state = r.state;
      now += INVISIBLE + LADDER;
    }
    const dead = receive(state, log, opts({ now, maxReconsumeTimes: 2 }));
    expect(dead.received).toEqual([]);
    // Claimed for the dead-letter queue: a new nonce, held for the claim's time, not redelivered.
    expect(dead.deadLetters.map((d) => [d.entry.queueOffset, d.handed.nonce, d.handed.reconsumeTimes, d.handed.invisibleUntil])).toEqual([
      [0, 4, 2, now + 60_000],
    ]);
    expect(receive(dead.state, log, opts({ now: now + 59_999, maxReconsumeTimes: 2 })).deadLetters).toEqual([]);
    // A claim not acked lapses and is made again; one acked is gone.
    expect(receive(dead.state, log, opts({ now: now + 60_000, maxReconsumeTimes: 2 })).deadLetters.map((d) => d.handed.nonce)).toEqual([5]);
    const acked = ack(dead.state, [{ offset: 0, nonce: 4 }], now + 1);
    expect(acked.outcomes).toEqual(["OK"]);
    expect(acked.state.inflight).toEqual([]);
  });

  it("passes messages the filter rejects, and hands out no new ones at the in-flight cap", () => {
    const log = logOf(entries(6, undefined, (i) => (i % 2 ? "A" : "B")));
    const tagged = receive(EMPTY, log, opts({ filter: buildFilter("TAG", "A") }));
    expect(offsetsOf(tagged)).toEqual([1, 3, 5]);
    expect(tagged.state.cursor).toBe(6);
    const capped = receive(EMPTY, log, opts({ maxInflight: 2 }));
    expect(offsetsOf(capped)).toEqual([0, 1]);
    expect(receive(capped.state, log, opts({ maxInflight: 2 })).received).toEqual([]);
  });

  it("drops in-flight messages retention removed and starts at the log's minOffset", () => {
    const log = logOf(entries(6).slice(3));
    const held: PopState = {
      cursor: 2,
      nonce: 5,
      inflight: [{ offset: 1, nonce: 5, invisibleUntil: T0, visibleAt: T0, reconsumeTimes: 0, firstReceivedAt: 1 }],
    };
    const r = receive(held, log, opts({ minOffset: 3 }));
    expect(offsetsOf(r)).toEqual([3, 4, 5]);
    expect(r.state.inflight.map((m) => m.offset)).toEqual([3, 4, 5]);
  });

  it("orderly: holds back a message group while an earlier message of it is in flight, in offset order", () => {
    const keys = ["a", "a", "b", "a", "b"];
    const log = logOf(entries(5, (i) => ({ [SHARDING_KEY_PROPERTY]: keys[i]! })));
    const first = receive(EMPTY, log, opts({ orderly: true, maxNum: 1 }));
    expect(offsetsOf(first)).toEqual([0]);
    // "a" is held: the queue's next message is of "a", so nothing passes it.
    expect(receive(first.state, log, opts({ orderly: true, now: T0 + 1 })).received).toEqual([]);
    const acked = ack(first.state, [{ offset: 0, nonce: 1 }], T0 + 1).state;
    const next = receive(acked, log, opts({ orderly: true, now: T0 + 2 }));
    expect(offsetsOf(next)).toEqual([1, 2, 3, 4]);
    // Not acked in time: the earliest of each group comes first again, and nothing newer.
    const late = T0 + 2 + INVISIBLE + LADDER;
    const partial = ack(next.state, [{ offset: 2, nonce: next.received[1]!.handed.nonce }], T0 + 3).state;
    const again = receive(partial, log, opts({ orderly: true, now: late, maxNum: 1 }));
    expect(offsetsOf(again)).toEqual([1]);
  });
});

describe("POP ack and change of invisibility", () => {
  const held = receive(EMPTY, logOf(entries(3)), opts()).state;

  it("acks current handles in one state change and reports stale and unknown ones without changing anything", () => {
    const { state, outcomes } = ack(
      held,
      [
        { offset: 0, nonce: 1 },
        { offset: 1, nonce: 9 },
        { offset: 7, nonce: 1 },
        { offset: 2, nonce: 3 },
      ],
      T0 + 1,
    );
    expect(outcomes).toEqual(["OK", "RECEIPT_HANDLE_INVALID", "RECEIPT_HANDLE_INVALID", "OK"]);
    expect(state.inflight.map((m) => m.offset)).toEqual([1]);
    expect(ack(state, [{ offset: 0, nonce: 1 }], T0 + 2).outcomes).toEqual(["RECEIPT_HANDLE_INVALID"]);
    const late = ack(held, [{ offset: 0, nonce: 1 }], T0 + INVISIBLE);
    expect(late.outcomes).toEqual(["RECEIPT_HANDLE_EXPIRED"]);
    expect(late.state).toBe(held);
  });

  it("a change gives a new nonce, makes the old handle expired and sets the exact visible time", () => {
    // Shorter than the others' invisibility plus ladder: only this one is visible at its new time.
    const changed = changeInvisible(held, { offset: 1, nonce: 2 }, 15_000, T0 + 5);
    expect(changed.outcome).toBe("OK");
    expect(changed.changed).toEqual({ offset: 1, nonce: 4, invisibleUntil: T0 + 15_005, visibleAt: T0 + 15_005, reconsumeTimes: 0, firstReceivedAt: T0 });
    expect(ack(changed.state, [{ offset: 1, nonce: 2 }], T0 + 6).outcomes).toEqual(["RECEIPT_HANDLE_EXPIRED"]);
    expect(changeInvisible(changed.state, { offset: 1, nonce: 2 }, 15_000, T0 + 6).outcome).toBe("RECEIPT_HANDLE_EXPIRED");
    expect(ack(changed.state, [{ offset: 1, nonce: 4 }], T0 + 15_004).outcomes).toEqual(["OK"]);
    expect(ack(changed.state, [{ offset: 1, nonce: 4 }], T0 + 15_005).outcomes).toEqual(["RECEIPT_HANDLE_EXPIRED"]);
    // Visible again exactly at its new time, no ladder added.
    const again = receive(changed.state, logOf(entries(3)), opts({ now: T0 + 15_005 }));
    expect(offsetsOf(again)).toEqual([1]);
  });

  it("next visible time is the earliest one still ahead, or null", () => {
    expect(nextVisibleAt(held, T0)).toBe(T0 + INVISIBLE + LADDER);
    expect(nextVisibleAt(held, T0 + INVISIBLE + LADDER)).toBeNull();
    expect(nextVisibleAt(EMPTY, T0)).toBeNull();
  });
});
