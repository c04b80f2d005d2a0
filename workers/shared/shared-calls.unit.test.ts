import { describe, expect, it } from "vitest";
import { SharedCalls } from "./shared-calls.js";

/** A call that finishes when told to, counting how often it was started. */
function gated<T>(value: T) {
  const state = { started: 0, release: () => {} };
  const call = () => {
    state.started++;
    return new Promise<T>((resolve) => (state.release = () => resolve(value)));
  };
  return { state, call };
}

describe("SharedCalls", () => {
  it("gives concurrent callers of one key one call; later callers get a fresh one", async () => {
    const calls = new SharedCalls<string>();
    const a = gated("a1");
    const concurrent = [calls.run("broker-a", a.call), calls.run("broker-a", a.call), calls.run("broker-a", a.call)];
    const b = gated("b1");
    const other = calls.run("broker-b", b.call); // keys are separate
    expect([a.state.started, b.state.started]).toEqual([1, 1]);
    a.state.release();
    b.state.release();
    expect(await Promise.all(concurrent)).toEqual(["a1", "a1", "a1"]);
    expect(await other).toBe("b1");
    // Settled: nothing is kept, so the lag shown is never older than the call.
    const again = gated("a2");
    const fresh = calls.run("broker-a", again.call);
    again.state.release();
    expect(await fresh).toBe("a2");
    expect(again.state.started).toBe(1);
  });

  it("shares a failure with the callers that waited for it, then tries again", async () => {
    const calls = new SharedCalls<string>();
    let fail!: (e: Error) => void;
    const failing = () => new Promise<string>((_, reject) => (fail = reject));
    const first = calls.run("k", failing);
    const second = calls.run("k", failing);
    fail(new Error("down"));
    await expect(first).rejects.toThrow("down");
    await expect(second).rejects.toThrow("down");
    expect(await calls.run("k", async () => "up")).toBe("up");
  });
});
