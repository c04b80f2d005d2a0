import { describe, expect, it } from "vitest";
import type { MessageQueue } from "../protocol/message.js";
import type { ProduceAccumulator } from "./produce-accumulator.js";
import { StickyQueues } from "./sticky-queue.js";

const queues: MessageQueue[] = [0, 1, 2, 3].flatMap((queueId) => ["broker-a", "broker-b"].map((brokerName) => ({ topic: "T", brokerName, queueId })));
const key = (q: MessageQueue | undefined) => (q ? `${q.brokerName}:${q.queueId}` : "none");

/** The two things StickyQueues asks of the accumulator, set by the test. */
function fakeAccumulator() {
  const state = { inFlight: false, filling: undefined as MessageQueue | undefined };
  const accumulator = { fillingQueue: () => (state.inFlight ? state.filling : undefined) } as unknown as ProduceAccumulator;
  return { state, accumulator };
}

describe("StickyQueues", () => {
  it("with nothing in flight and even shares, takes the next queue round-robin", () => {
    const { state, accumulator } = fakeAccumulator();
    const sticky = new StickyQueues(accumulator);
    state.filling = queues[3]; // waiting for the microtask that sends it, not for a request in flight
    const picked: string[] = [];
    for (let rr = 5; rr < 5 + 16; rr++) {
      const mq = sticky.choose("T", queues, () => true, rr)!;
      sticky.count(mq);
      picked.push(key(mq));
    }
    expect(picked).toEqual([...queues.slice(5), ...queues, ...queues.slice(0, 5)].map(key));
  });

  it("after a run on one queue, sends go to the others until the shares are even again", () => {
    const { accumulator } = fakeAccumulator();
    const sticky = new StickyQueues(accumulator);
    for (let i = 0; i < 3; i++) sticky.count(queues[0]!);
    const picked = Array.from({ length: 7 }, (_, rr) => {
      const mq = sticky.choose("T", queues, () => true, rr)!;
      sticky.count(mq);
      return key(mq);
    });
    expect(picked).not.toContain(key(queues[0]));
  });

  it("joins the queue already filling while it is usable and in the route", () => {
    const { state, accumulator } = fakeAccumulator();
    const sticky = new StickyQueues(accumulator);
    state.inFlight = true;
    state.filling = queues[5];
    expect(key(sticky.choose("T", queues, () => true, 0))).toBe("broker-b:2");
    // A filling queue on a broker to avoid (it just failed) is not joined: the least used usable queue is.
    expect(key(sticky.choose("T", queues, (q) => q.brokerName !== "broker-b", 0))).toBe("broker-a:0");
    // Nor one that left the route.
    expect(key(sticky.choose("T", queues.slice(0, 4), () => true, 0))).toBe("broker-a:0");
  });

  it("starts each run on the queue with the fewest sends, so shares stay within one run of each other", () => {
    const { state, accumulator } = fakeAccumulator();
    const sticky = new StickyQueues(accumulator);
    state.inFlight = true;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const shares = new Map<string, number>();
    let longest = 0;
    for (let run = 0; run < 200; run++) {
      state.filling = undefined;
      const mq = sticky.choose("T", queues, () => true, run)!;
      const length = 1 + Math.floor(random() * 20); // runs of 1 to 20 sends, as request sizes vary
      longest = Math.max(longest, length);
      for (let i = 0; i < length; i++) sticky.count(mq);
      shares.set(key(mq), (shares.get(key(mq)) ?? 0) + length);
    }
    expect(shares.size).toBe(8);
    expect(Math.max(...shares.values()) - Math.min(...shares.values())).toBeLessThanOrEqual(longest);
  });

  it("a queue passed over while its broker failed takes its turns again, without a catch-up burst", () => {
    const { accumulator } = fakeAccumulator();
    const sticky = new StickyQueues(accumulator);
    const pick = (rr: number, usable: (q: MessageQueue) => boolean) => {
      const mq = sticky.choose("T", queues, usable, rr)!;
      sticky.count(mq);
      return mq.brokerName;
    };
    for (let rr = 0; rr < 40; rr++) expect(pick(rr, (q) => q.brokerName !== "broker-a")).toBe("broker-b");
    // 40 sends passed broker-a's queues over; the next 16 give it about half, not all of them.
    const after = Array.from({ length: 16 }, (_, rr) => pick(40 + rr, () => true));
    const onA = after.filter((b) => b === "broker-a").length;
    expect(onA).toBeGreaterThanOrEqual(8);
    expect(onA).toBeLessThanOrEqual(10);
  });

  it("counts each topic apart", () => {
    const { state, accumulator } = fakeAccumulator();
    const sticky = new StickyQueues(accumulator);
    state.inFlight = true;
    for (let i = 0; i < 5; i++) sticky.count(queues[0]!);
    const other = queues.map((q) => ({ ...q, topic: "U" }));
    expect(key(sticky.choose("U", other, () => true, 0))).toBe("broker-a:0");
    expect(key(sticky.choose("T", queues, () => true, 0))).toBe("broker-b:0");
  });
});
