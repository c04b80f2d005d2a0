import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageQueue, SendResult } from "../protocol/message.js";
import { ProduceAccumulator, type AccumulatorLimits, type PendingSend, type SendOutcome } from "./produce-accumulator.js";

const mq = (queueId: number, brokerName = "b0", topic = "T"): MessageQueue => ({ topic, brokerName, queueId });
const send = (q: MessageQueue, body: string, bytes = 10): PendingSend => ({ mq: q, message: { body, bodyEncoding: "utf8" }, bytes, deadline: 1e12 });

interface Call {
  topic: string;
  sends: readonly PendingSend[];
  answer(outcomes?: SendOutcome[]): void;
  fail(e: unknown): void;
}

/** An accumulator whose requests, timers and deferred flushes the test drives by hand. */
function harness(limits: Partial<AccumulatorLimits> = {}) {
  const clock = { nowMs: 1_000_000 };
  const calls: Call[] = [];
  const deferred: (() => void)[] = [];
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let nextTimer = 1;
  const acc = new ProduceAccumulator(
    { holdMs: 0, maxMessages: 256, maxBytes: 1 << 20, ...limits },
    {
      request: (topic, sends) =>
        new Promise<SendOutcome[]>((resolve, reject) => {
          calls.push({
            topic,
            sends: [...sends],
            answer: (outcomes) => resolve(outcomes ?? sends.map((s) => ({ ok: true, result: resultFor(s) }))),
            fail: reject,
          });
        }),
      setTimer: (fn, ms) => {
        const id = nextTimer++;
        timers.set(id, { fn, ms });
        return id;
      },
      clearTimer: (id) => timers.delete(id as number),
      defer: (fn) => deferred.push(fn),
      now: () => clock.nowMs,
    },
  );
  const runDeferred = () => deferred.splice(0).forEach((fn) => fn());
  const fireTimers = () => {
    const due = [...timers.values()];
    timers.clear();
    due.forEach((t) => t.fn());
  };
  return { acc, calls, deferred, timers, runDeferred, fireTimers, clock };
}

function resultFor(s: PendingSend): SendResult {
  return { sendStatus: "SEND_OK", msgId: s.message.body, offsetMsgId: "", messageQueue: s.mq, queueOffset: 0, msgIds: [s.message.body], offsetMsgIds: [""] };
}

const bodies = (c: Call) => c.sends.map((s) => s.message.body);
const tick = () => new Promise<void>((r) => setImmediate(r));

describe("ProduceAccumulator", () => {
  it("sends the first send at once and the ones issued meanwhile in the next request", async () => {
    const h = harness();
    const first = h.acc.add(send(mq(0), "a"));
    h.runDeferred();
    expect(h.calls.map(bodies)).toEqual([["a"]]);
    const later = [h.acc.add(send(mq(0), "b")), h.acc.add(send(mq(0), "c"))];
    h.runDeferred();
    expect(h.calls).toHaveLength(1); // queue 0 has a request in flight: b and c wait
    h.calls[0]!.answer();
    expect((await first).msgId).toBe("a");
    expect(h.calls.map(bodies)).toEqual([["a"], ["b", "c"]]);
    h.calls[1]!.answer();
    expect((await Promise.all(later)).map((r) => r.msgId)).toEqual(["b", "c"]);
  });

  it("carries every ready queue of a topic in one request, and topics apart", () => {
    const h = harness();
    for (let q = 0; q < 8; q++) void h.acc.add(send(mq(q, q < 4 ? "b0" : "b1"), `m${q}`));
    void h.acc.add(send(mq(0, "b0", "Other"), "x"));
    h.runDeferred();
    expect(h.calls.map((c) => [c.topic, bodies(c)])).toEqual([
      ["T", ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]],
      ["Other", ["x"]],
    ]);
  });

  it("while the topic's request is in flight, sends to every queue wait and ride the next request", async () => {
    const h = harness();
    void h.acc.add(send(mq(0), "a"));
    h.runDeferred();
    void h.acc.add(send(mq(0), "b"));
    void h.acc.add(send(mq(1), "c"));
    h.runDeferred();
    expect(h.calls.map(bodies)).toEqual([["a"]]);
    h.calls[0]!.answer();
    await tick();
    expect(h.calls.map(bodies)).toEqual([["a"], ["b", "c"]]);
  });

  it("with more requests in flight allowed, a queue whose request is in flight waits while other queues go at once", () => {
    const h = harness({ maxRequestsInFlight: 2 });
    void h.acc.add(send(mq(0), "a"));
    h.runDeferred();
    void h.acc.add(send(mq(0), "b"));
    void h.acc.add(send(mq(1), "c"));
    h.runDeferred();
    expect(h.calls.map(bodies)).toEqual([["a"], ["c"]]);
  });

  it("a request that reaches the caps leaves at once, whatever is in flight", () => {
    const h = harness({ maxMessages: 3 });
    void h.acc.add(send(mq(0), "a"));
    h.runDeferred();
    for (const b of ["b", "c"]) void h.acc.add(send(mq(1), b));
    h.runDeferred();
    expect(h.calls.map(bodies)).toEqual([["a"]]); // 2 of 3: they wait for the request in flight
    void h.acc.add(send(mq(1), "d"));
    h.runDeferred();
    expect(h.calls.map(bodies)).toEqual([["a"], ["b", "c", "d"]]);
  });

  it("fillingQueue names the queue whose sends wait for a request in flight, while it has room", () => {
    const h = harness({ maxMessages: 3 });
    expect(h.acc.fillingQueue("T")).toBeUndefined();
    void h.acc.add(send(mq(0), "a"));
    expect(h.acc.fillingQueue("T")).toBeUndefined(); // nothing in flight: sends issued together keep their queues
    h.runDeferred();
    expect(h.acc.fillingQueue("T")).toBeUndefined(); // a is in a request: nothing waits
    void h.acc.add(send(mq(5), "b"));
    expect(h.acc.fillingQueue("T")).toEqual(mq(5)); // b waits for a's request
    expect(h.acc.fillingQueue("Other")).toBeUndefined();
    void h.acc.add(send(mq(5), "c"));
    void h.acc.add(send(mq(5), "d"));
    expect(h.acc.fillingQueue("T")).toBeUndefined(); // full: the next send starts another queue
  });

  it("gives each send its own outcome: one refused, the others resolved", async () => {
    const h = harness();
    const sends = ["a", "b", "c"].map((b, q) => h.acc.add(send(mq(q), b)));
    h.runDeferred();
    const [a, b, c] = h.calls[0]!.sends;
    h.calls[0]!.answer([
      { ok: true, result: resultFor(a!) },
      { ok: false, error: new Error("refused b") },
      { ok: true, result: resultFor(c!) },
    ]);
    const settled = await Promise.allSettled(sends);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value.msgId : (s.reason as Error).message))).toEqual(["a", "refused b", "c"]);
    void b;
  });

  it("a failed request fails only the sends it carried", async () => {
    const h = harness({ maxRequestsInFlight: 2 });
    const a = h.acc.add(send(mq(0), "a"));
    h.runDeferred();
    const b = h.acc.add(send(mq(1), "b"));
    h.runDeferred();
    expect(h.calls).toHaveLength(2);
    h.calls[0]!.fail(new Error("network"));
    h.calls[1]!.answer();
    await expect(a).rejects.toThrow("network");
    expect((await b).msgId).toBe("b");
  });

  it("cuts requests at the message and byte caps; a queue's rest waits for its request", () => {
    const h = harness({ maxMessages: 3, maxBytes: 25, maxRequestsInFlight: 4 });
    for (const b of ["a", "b", "c", "d"]) void h.acc.add(send(mq(0), b, 10));
    void h.acc.add(send(mq(1), "e", 10));
    h.runDeferred();
    // 25 bytes: two 10-byte messages of queue 0; queue 1 goes in a request of its own; c, d wait.
    expect(h.calls.map(bodies)).toEqual([["a", "b"], ["e"]]);
    h.calls[0]!.answer();
    return tick().then(() => expect(h.calls.map(bodies)).toEqual([["a", "b"], ["e"], ["c", "d"]]));
  });

  it("sends a message larger than the byte cap alone", async () => {
    const h = harness({ maxBytes: 5 });
    void h.acc.add(send(mq(0), "big", 100));
    void h.acc.add(send(mq(1), "small", 1));
    h.runDeferred();
    expect(h.calls.map(bodies)).toEqual([["big"]]);
    h.calls[0]!.answer();
    await tick();
    expect(h.calls.map(bodies)).toEqual([["big"], ["small"]]);
  });

  it("fillingQueue names the queue whose sends linger for the hold time", () => {
    const h = harness({ holdMs: 5 });
    void h.acc.add(send(mq(2), "a"));
    expect(h.acc.holdsSends("T")).toBe(true);
    expect(h.acc.fillingQueue("T")).toEqual(mq(2));
    h.fireTimers();
    expect(h.acc.fillingQueue("T")).toBeUndefined(); // a is in a request: nothing waits
  });

  it("with a hold time, waits for the timer or the caps", () => {
    const h = harness({ holdMs: 5, maxMessages: 3 });
    void h.acc.add(send(mq(0), "a"));
    void h.acc.add(send(mq(1), "b"));
    expect(h.calls).toHaveLength(0);
    expect([...h.timers.values()].map((t) => t.ms)).toEqual([5]);
    h.fireTimers();
    expect(h.calls.map(bodies)).toEqual([["a", "b"]]);
    // Reaching the count cap sends at once, without the timer.
    for (const b of ["c", "d", "e"]) void h.acc.add(send(mq(2), b));
    expect(h.calls.map(bodies)).toEqual([
      ["a", "b"],
      ["c", "d", "e"],
    ]);
    expect(h.timers.size).toBe(0);
  });

  it("with a hold time, an answer does not cut the linger short: the next request leaves when its oldest send has waited holdMs", async () => {
    const h = harness({ holdMs: 20 });
    void h.acc.add(send(mq(0), "a"));
    h.fireTimers(); // a lingered 20 ms on an idle topic and left
    expect(h.calls.map(bodies)).toEqual([["a"]]);
    h.clock.nowMs += 5;
    void h.acc.add(send(mq(1), "b")); // waits for a's request and for its own linger
    h.clock.nowMs += 5;
    h.calls[0]!.answer();
    await tick();
    expect(h.calls).toHaveLength(1); // b has waited 5 ms of 20
    expect([...h.timers.values()].map((t) => t.ms)).toEqual([20]); // armed when b started waiting
    void h.acc.add(send(mq(1), "c"));
    h.fireTimers();
    expect(h.calls.map(bodies)).toEqual([["a"], ["b", "c"]]);
  });

  it("with a hold time, sends that waited out their linger behind a request leave when it is answered", async () => {
    const h = harness({ holdMs: 20 });
    void h.acc.add(send(mq(0), "a"));
    h.fireTimers();
    void h.acc.add(send(mq(1), "b"));
    h.clock.nowMs += 30; // a's request took longer than b's linger
    h.calls[0]!.answer();
    await tick();
    expect(h.calls.map(bodies)).toEqual([["a"], ["b"]]);
  });

  it("drain sends what the hold time keeps and waits for every request", async () => {
    const h = harness({ holdMs: 1000 });
    const a = h.acc.add(send(mq(0), "a"));
    const b = h.acc.add(send(mq(0), "b"));
    let drained = false;
    const drain = h.acc.drain().then(() => (drained = true));
    expect(h.calls.map(bodies)).toEqual([["a", "b"]]);
    expect(h.timers.size).toBe(0);
    await tick();
    expect(drained).toBe(false);
    h.calls[0]!.answer();
    await drain;
    expect((await Promise.all([a, b])).map((r) => r.msgId)).toEqual(["a", "b"]);
    expect(h.acc.waitingCount).toBe(0);
    expect(h.acc.stats).toEqual({ requests: 1, messages: 2 });
  });

  it("keeps each queue's sends in issue order across requests", async () => {
    const h = harness({ maxMessages: 2 });
    for (let i = 0; i < 7; i++) void h.acc.add(send(mq(0), `m${i}`));
    h.runDeferred();
    for (let round = 0; round < 4; round++) {
      h.calls[round]!.answer();
      await tick();
    }
    expect(h.calls.map(bodies)).toEqual([["m0", "m1"], ["m2", "m3"], ["m4", "m5"], ["m6"]]);
  });

  it("defers with queueMicrotask called as a plain function, as browsers require", async () => {
    // Browsers throw "Illegal invocation" when queueMicrotask runs with another object as `this`.
    const real = globalThis.queueMicrotask;
    vi.stubGlobal("queueMicrotask", function (this: unknown, fn: () => void) {
      if (this !== undefined && this !== globalThis) throw new TypeError("Illegal invocation");
      real(fn);
    });
    const calls: string[] = [];
    const acc = new ProduceAccumulator(
      { holdMs: 0, maxMessages: 256, maxBytes: 1 << 20 },
      {
        request: (topic, sends) => {
          calls.push(topic);
          return Promise.resolve(sends.map((x) => ({ ok: true as const, result: resultFor(x) })));
        },
        setTimer: () => 0,
        clearTimer: () => undefined,
      },
    );
    await expect(acc.add(send(mq(0), "a"))).resolves.toMatchObject({ msgId: "a" });
    expect(calls).toEqual(["T"]);
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});
