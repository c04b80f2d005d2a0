/** The activity counters (activity.ts) on a plain class: calls in progress, activations, busy time, nesting. */
import { describe, expect, it } from "vitest";
import { activityOf, activityTotals, trackActivity } from "./activity.js";

class Counted {
  release: (() => void) | undefined;

  constructor() {
    this.setUp();
  }

  /** A constructor's helper: not counted (see notCounted). */
  setUp(): void {}

  async slow(): Promise<string> {
    await new Promise<void>((resolve) => (this.release = resolve));
    return "done";
  }

  /** Calls another method of the same object: one busy span, one activation. */
  async outer(): Promise<string> {
    return `outer ${await this.slow()}`;
  }

  quick(n: number): number {
    return n + 1;
  }

  fails(): never {
    throw new Error("refused");
  }
}
trackActivity(Counted, ["setUp"]);

describe("trackActivity", () => {
  it("counts calls in progress, activations and busy time, nested calls inside their caller's span", async () => {
    const o = new Counted();
    expect(activityOf(o)).toEqual({ inFlight: 0, activations: 0, busyMs: 0 });
    expect(o.quick(1)).toBe(2);
    expect(() => o.fails()).toThrow("refused");
    expect(activityOf(o)).toMatchObject({ inFlight: 0, activations: 2 });

    const pending = o.outer();
    expect(activityOf(o)).toMatchObject({ inFlight: 2, activations: 3 });
    await new Promise((r) => setTimeout(r, 30));
    expect(activityOf(o).busyMs).toBeGreaterThanOrEqual(20);
    o.release!();
    expect(await pending).toBe("outer done");
    const after = activityOf(o);
    expect(after).toMatchObject({ inFlight: 0, activations: 3 });
    expect(after.busyMs).toBeGreaterThanOrEqual(20);
    expect(activityTotals()["Counted"]).toMatchObject({ inFlight: 0, activations: 3, objects: 1 });
  });
});
