import { afterEach, describe, expect, it, vi } from "vitest";
import { KeyedSerializer, Semaphore } from "./concurrency.js";
import { deferred, flush } from "./test-support/promises.js";
/** How long a task takes, on the real clock (work, not a wait for anything). */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  vi.useRealTimers();
});

describe("Semaphore", () => {
  it("grants up to size slots at once and makes the next caller wait", async () => {
    const sem = new Semaphore(2);
    expect(sem.size).toBe(2);
    expect(sem.inUse).toBe(0);
    let granted = 0;
    for (let i = 0; i < 3; i++) void sem.acquire().then(() => granted++);
    await flush();
    expect(granted).toBe(2);
    expect(sem.inUse).toBe(2);
    sem.release();
    await flush();
    expect(granted).toBe(3);
    expect(sem.inUse).toBe(2);
    sem.release();
    sem.release();
    expect(sem.inUse).toBe(0);
    expect(sem.peak).toBe(2);
  });

  it("hands slots to waiters in FIFO order", async () => {
    const sem = new Semaphore(1);
    await sem.acquire();
    const order: number[] = [];
    const waiters = Array.from({ length: 5 }, (_, i) => sem.acquire().then(() => order.push(i)));
    await flush();
    expect(order).toEqual([]);
    for (let i = 0; i < 5; i++) {
      sem.release();
      await flush();
      expect(order).toEqual(Array.from({ length: i + 1 }, (_, j) => j));
      expect(sem.inUse).toBe(1);
    }
    await Promise.all(waiters);
    sem.release();
    expect(sem.inUse).toBe(0);
    expect(sem.peak).toBe(1);
  });

  it("a release hands the slot to a waiter before a later caller can take it", async () => {
    const sem = new Semaphore(1);
    await sem.acquire();
    const order: string[] = [];
    const early = sem.acquire().then(() => order.push("waiter"));
    sem.release();
    // Arrives after the release but before the waiter ran: it must queue behind the waiter.
    const late = sem.acquire().then(() => order.push("late"));
    await flush();
    expect(order).toEqual(["waiter"]);
    expect(sem.inUse).toBe(1);
    sem.release();
    await Promise.all([early, late]);
    expect(order).toEqual(["waiter", "late"]);
    sem.release();
    expect(sem.inUse).toBe(0);
  });

  it("never lets more than size tasks hold a slot, and records the peak", async () => {
    const size = 3;
    const sem = new Semaphore(size);
    let holding = 0;
    let maxHolding = 0;
    const tasks = Array.from({ length: 40 }, async (_, i) => {
      await sem.acquire();
      holding++;
      maxHolding = Math.max(maxHolding, holding);
      expect(sem.inUse).toBeLessThanOrEqual(size);
      await sleep(i % 4);
      holding--;
      sem.release();
    });
    await Promise.all(tasks);
    expect(maxHolding).toBe(size);
    expect(sem.peak).toBe(size);
    expect(sem.inUse).toBe(0);
  });

  it("peak stays at the highest use ever seen", async () => {
    const sem = new Semaphore(10);
    await sem.acquire();
    await sem.acquire();
    expect(sem.peak).toBe(2);
    sem.release();
    sem.release();
    await sem.acquire();
    expect(sem.peak).toBe(2);
    expect(sem.inUse).toBe(1);
  });
});

describe("KeyedSerializer", () => {
  it("runs tasks of one key strictly one after another, in call order, even when earlier ones are slower", async () => {
    const s = new KeyedSerializer();
    const events: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const task = (name: string, ms: number) => async (): Promise<string> => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      events.push(`start ${name}`);
      await sleep(ms);
      events.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([s.run("k", task("a", 30)), s.run("k", task("b", 15)), s.run("k", task("c", 1))]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(maxRunning).toBe(1);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("does not start a task before the earlier one settles", async () => {
    vi.useFakeTimers(); // the wait below, for what must not happen, runs on a driven clock
    const s = new KeyedSerializer();
    const first = deferred<string>();
    let secondStarted = false;
    const p1 = s.run("k", () => first.promise);
    const p2 = s.run("k", async () => {
      secondStarted = true;
      return "second";
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(secondStarted).toBe(false);
    first.resolve("first");
    expect(await p1).toBe("first");
    expect(await p2).toBe("second");
    expect(secondStarted).toBe(true);
  });

  it("carries on after a task rejects, keeping order, and reports each outcome to its own caller", async () => {
    const s = new KeyedSerializer();
    const events: string[] = [];
    const p1 = s.run("k", async () => {
      events.push("start 1");
      await sleep(20);
      events.push("fail 1");
      throw new Error("boom 1");
    });
    const p2 = s.run("k", async () => {
      events.push("start 2");
      await sleep(5);
      events.push("end 2");
      return 2;
    });
    const p3 = s.run("k", async () => {
      events.push("start 3");
      throw new Error("boom 3");
    });
    const p4 = s.run("k", async () => {
      events.push("start 4");
      return 4;
    });
    const settled = await Promise.allSettled([p1, p2, p3, p4]);
    expect(settled.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual(["boom 1", 2, "boom 3", 4]);
    expect(events).toEqual(["start 1", "fail 1", "start 2", "end 2", "start 3", "start 4"]);
  });

  it("a task that throws synchronously is reported as a rejection and does not block the key", async () => {
    const s = new KeyedSerializer();
    const p1 = s.run("k", () => {
      throw new Error("sync boom");
    });
    const p2 = s.run("k", async () => "after");
    await expect(p1).rejects.toThrow("sync boom");
    expect(await p2).toBe("after");
  });

  it("runs tasks of different keys concurrently", async () => {
    const s = new KeyedSerializer();
    const gateA = deferred<string>();
    const started: string[] = [];
    const pa = s.run("a", () => {
      started.push("a");
      return gateA.promise;
    });
    const pb = s.run("b", async () => {
      started.push("b");
      return "b";
    });
    // b finishes while a is still running.
    expect(await pb).toBe("b");
    expect(started).toEqual(["a", "b"]);
    gateA.resolve("a");
    expect(await pa).toBe("a");
  });

  it("keeps many keys independent and each key serial", async () => {
    const s = new KeyedSerializer();
    const running = new Map<string, number>();
    const order = new Map<string, number[]>();
    let globalRunning = 0;
    let globalMax = 0;
    const all: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      const key = `k${i % 3}`;
      all.push(
        s.run(key, async () => {
          const n = (running.get(key) ?? 0) + 1;
          running.set(key, n);
          expect(n).toBe(1);
          globalRunning++;
          globalMax = Math.max(globalMax, globalRunning);
          await sleep((60 - i) % 5);
          order.set(key, [...(order.get(key) ?? []), i]);
          running.set(key, n - 1);
          globalRunning--;
        }),
      );
    }
    await Promise.all(all);
    for (let k = 0; k < 3; k++) {
      expect(order.get(`k${k}`)).toEqual(Array.from({ length: 20 }, (_, j) => j * 3 + k));
    }
    expect(globalMax).toBe(3);
  });

  it("a key used again after it drained starts at once", async () => {
    const s = new KeyedSerializer();
    expect(await s.run("k", async () => 1)).toBe(1);
    await flush();
    let ran = false;
    const p = s.run("k", async () => {
      ran = true;
      return 2;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(ran).toBe(true);
    expect(await p).toBe(2);
  });
});
