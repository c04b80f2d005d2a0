import { describe, expect, it } from "vitest";
import { Waiters } from "./waiters.js";

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  return "admitted";
}

describe("Waiters", () => {
  it("item 7: accounts that fill the cap crowd out only themselves", async () => {
    const w = new Waiters(4);
    const outcome: Record<string, boolean | undefined> = {};
    const park = (account: string, label: string) => void w.wait(60_000, account).then((woken) => (outcome[label] = woken));
    park("ro-1", "ro-1 a");
    park("ro-1", "ro-1 b");
    park("ro-2", "ro-2 a");
    park("ro-2", "ro-2 b");
    expect(w.size).toBe(4);

    // Full, but the consumer's account holds none: it gets in, and the oldest pull of the
    // busiest account ends at once, as a long poll that timed out.
    park("app", "app a");
    expect(w.size).toBe(4);
    await Promise.resolve();
    expect(outcome).toEqual({ "ro-1 a": false });
    // The filling accounts hold their share (or more) now: they are refused, not the consumer.
    expect(refusal(() => void w.wait(60_000, "ro-2"))).toBe(
      "[TOO_MANY_WAITERS] this queue already holds 4 parked pulls, 2 of them this account's (its share); retry later",
    );
    expect(refusal(() => void w.wait(60_000, "ro-1"))).toContain("[TOO_MANY_WAITERS]");
    // Three accounts in four places: nobody takes a second place from an account holding just one more.
    expect(refusal(() => void w.wait(60_000, "app"))).toContain("[TOO_MANY_WAITERS]");

    // An append wakes everyone left, and the counts start again.
    w.wakeAll();
    await Promise.resolve();
    expect(outcome).toEqual({ "ro-1 a": false, "ro-1 b": true, "ro-2 a": true, "ro-2 b": true, "app a": true });
    expect(w.size).toBe(0);
    // One account alone may fill every place; a second one then gets half of them.
    for (let i = 0; i < 4; i++) park("ro-1", `again ${i}`);
    park("app", "app b");
    park("app", "app c");
    expect(refusal(() => void w.wait(60_000, "app"))).toContain("[TOO_MANY_WAITERS]");
    await Promise.resolve();
    expect(w.size).toBe(4);
    expect([outcome["again 0"], outcome["again 1"], outcome["again 2"], outcome["app b"]]).toEqual([false, false, undefined, undefined]);
    w.wakeAll();
  });

  it("a timed-out waiter frees its account's place", async () => {
    const w = new Waiters(2);
    const first = w.wait(10, "a");
    void w.wait(60_000, "a");
    expect(refusal(() => void w.wait(60_000, "a"))).toContain("[TOO_MANY_WAITERS]");
    expect(await first).toBe(false);
    expect(w.size).toBe(1);
    void w.wait(60_000, "a");
    expect(w.size).toBe(2);
    w.wakeAll();
  });
});
