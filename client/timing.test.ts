import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isMQError } from "../protocol/errors.js";
import { sleep, withTimeout } from "./timing.js";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** Tracks whether a promise has settled, and how, without awaiting it. */
function watch<T>(p: Promise<T>): { state: "pending" | "resolved" | "rejected"; value?: T; error?: unknown } {
  const out: { state: "pending" | "resolved" | "rejected"; value?: T; error?: unknown } = { state: "pending" };
  p.then(
    (value) => Object.assign(out, { state: "resolved", value }),
    (error: unknown) => Object.assign(out, { state: "rejected", error }),
  );
  return out;
}

/** A signal that counts its abort listeners, to check none is left behind. */
function countingSignal(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController();
  let listeners = 0;
  const add = controller.signal.addEventListener.bind(controller.signal);
  const remove = controller.signal.removeEventListener.bind(controller.signal);
  vi.spyOn(controller.signal, "addEventListener").mockImplementation((...args: Parameters<AbortSignal["addEventListener"]>) => {
    listeners++;
    add(...args);
  });
  vi.spyOn(controller.signal, "removeEventListener").mockImplementation((...args: Parameters<AbortSignal["removeEventListener"]>) => {
    listeners--;
    remove(...args);
  });
  return { controller, listeners: () => listeners };
}

describe("sleep", () => {
  it("resolves once ms have passed, not before", async () => {
    const s = watch(sleep(100));
    await vi.advanceTimersByTimeAsync(99);
    expect(s.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(s.state).toBe("resolved");
  });

  it("resolves (never rejects) as soon as its signal aborts, and clears its timer", async () => {
    const abort = new AbortController();
    const s = watch(sleep(10_000, abort.signal));
    await vi.advanceTimersByTimeAsync(10);
    expect(s.state).toBe("pending");
    abort.abort(new Error("stop"));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.state).toBe("resolved");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("resolves at once, with no timer, when the signal is already aborted", async () => {
    const abort = new AbortController();
    abort.abort();
    const s = watch(sleep(10_000, abort.signal));
    await vi.advanceTimersByTimeAsync(0);
    expect(s.state).toBe("resolved");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("leaves no abort listener on the signal after a full sleep, so a loop can sleep on one signal many times", async () => {
    const { controller, listeners } = countingSignal();
    for (let i = 0; i < 3; i++) {
      const s = watch(sleep(50, controller.signal));
      await vi.advanceTimersByTimeAsync(50);
      expect(s.state).toBe("resolved");
    }
    expect(listeners()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("withTimeout", () => {
  it("settles with the work's value when it finishes in time, and clears its timer", async () => {
    let finish!: (v: string) => void;
    const t = watch(withTimeout(new Promise<string>((r) => (finish = r)), 1000));
    await vi.advanceTimersByTimeAsync(999);
    expect(t.state).toBe("pending");
    finish("done");
    await vi.advanceTimersByTimeAsync(0);
    expect(t).toEqual({ state: "resolved", value: "done" });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with a retriable MQError TIMEOUT naming the work when it does not finish in time", async () => {
    const t = watch(withTimeout(new Promise<never>(() => undefined), 1000, "letting go of TopicA/0"));
    await vi.advanceTimersByTimeAsync(999);
    expect(t.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(t.state).toBe("rejected");
    expect(isMQError(t.error) && t.error.code).toBe("TIMEOUT");
    expect(isMQError(t.error) && t.error.retriable).toBe(true);
    expect((t.error as Error).message).toBe("letting go of TopicA/0 did not finish within 1000 ms");
  });

  it("passes the work's own rejection through, and clears its timer", async () => {
    const failure = new TypeError("broken");
    const t = watch(withTimeout(Promise.reject(failure), 1000));
    await vi.advanceTimersByTimeAsync(0);
    expect(t).toEqual({ state: "rejected", error: failure });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ignores the work settling after the timeout", async () => {
    let finish!: (v: number) => void;
    const t = watch(withTimeout(new Promise<number>((r) => (finish = r)), 10));
    await vi.advanceTimersByTimeAsync(10);
    finish(7);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.state).toBe("rejected");
    expect(isMQError(t.error) && t.error.code).toBe("TIMEOUT");
  });
});
