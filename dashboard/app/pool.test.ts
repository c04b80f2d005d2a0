import { describe, expect, it } from "vitest";
import { forEachLimited } from "./pool.js";

describe("forEachLimited", () => {
  it("runs every item, never more than the limit at once", async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, item % 3));
      done.push(item);
      running--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it("goes on after a task that throws", async () => {
    const done: number[] = [];
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (e: unknown) => errors.push(e);
    try {
      await forEachLimited([1, 2, 3], 1, async (item) => {
        if (item === 2) throw new Error("two");
        done.push(item);
      });
    } finally {
      console.error = original;
    }
    expect(done).toEqual([1, 3]);
    expect(errors).toEqual([new Error("two")]);
  });

  it("resolves at once for no items", async () => {
    let calls = 0;
    await forEachLimited([], 6, async () => {
      calls++;
    });
    expect(calls).toBe(0);
  });
});
