import { describe, expect, it } from "vitest";
import { AlarmSteps, stepBackoffMs } from "./alarm-steps.js";

function steps(): { s: AlarmSteps; lines: string[] } {
  const lines: string[] = [];
  return {
    s: new AlarmSteps(
      () => "TopicA/broker-a/3",
      (line) => lines.push(line),
    ),
    lines,
  };
}

describe("AlarmSteps", () => {
  it("item 1: a failing step does not stop the next one, and a repeating failure is logged once with the queue's name", async () => {
    const { s, lines } = steps();
    const ran: string[] = [];
    let now = 1_000_000;
    for (let run = 0; run < 5; run++) {
      expect(
        await s.run("delayed delivery", now, () => {
          throw new Error("string or blob too big: SQLITE_TOOBIG");
        }),
      ).toBe(false);
      expect(await s.run("retention", now, () => void ran.push(`retention@${run}`))).toBe(true);
      now += 60_000; // past any backoff: the failing step really runs (and fails) again
    }
    expect(ran).toEqual(["retention@0", "retention@1", "retention@2", "retention@3", "retention@4"]);
    expect(lines).toEqual([
      'queue TopicA/broker-a/3: alarm step "delayed delivery" failed: Error: string or blob too big: SQLITE_TOOBIG. ' +
        "The other steps go on; this one is retried with backoff and not logged again until it recovers.",
    ]);
    expect(s.failingSteps()).toEqual(["delayed delivery"]);
    // Recovery is reported once too, and a later failure starts a new streak.
    expect(await s.run("delayed delivery", now, () => undefined)).toBe(true);
    expect(lines[1]).toBe('queue TopicA/broker-a/3: alarm step "delayed delivery" recovered after 5 failed runs');
    expect(s.failingSteps()).toEqual([]);
    await s.run("delayed delivery", now, () => Promise.reject(new Error("again")));
    expect(lines).toHaveLength(3);
  });

  it("backs a failing step off, doubling from 1 s to a minute, and holds its due work until then", async () => {
    const { s } = steps();
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(stepBackoffMs)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    const now = 5_000;
    let calls = 0;
    const fail = () => {
      calls++;
      throw new Error("x");
    };
    await s.run("transaction checks", now, fail);
    expect(s.dueAt("transaction checks", now - 10)).toBe(now + 1000);
    expect(s.dueAt("transaction checks", now + 5000)).toBe(now + 5000);
    expect(s.dueAt("transaction checks", null)).toBeNull();
    expect(s.dueAt("retention", now - 10)).toBe(now - 10);
    // Within the backoff the step is skipped, not run.
    expect(await s.run("transaction checks", now + 999, fail)).toBe(false);
    expect(calls).toBe(1);
    await s.run("transaction checks", now + 1000, fail);
    expect(calls).toBe(2);
    expect(s.dueAt("transaction checks", 0)).toBe(now + 1000 + 2000);
  });
});
