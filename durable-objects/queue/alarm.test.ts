/**
 * The queue alarm's run (alarm.ts): which steps a run takes and where the alarm points after.
 * A run takes only steps whose work has come due, plus a scheduled-only step (the replication
 * push) whenever it is scheduled; the others are not asked to look for work.
 */
import { describe, expect, it } from "vitest";
import { QueueAlarm, type AlarmStep } from "./alarm.js";
import type { AlarmStepName } from "./alarm-steps.js";

function harness(now: number) {
  const set: number[] = [];
  const ran: AlarmStepName[] = [];
  const storage = {
    getAlarm: async () => null,
    setAlarm: async (at: number | Date) => void set.push(Number(at)),
  };
  /** A step whose work, once run, is done: its dueAt becomes null. */
  const step = (name: AlarmStepName, dueAt: () => number | null, onlyWhenScheduled = false): AlarmStep => {
    let done = false;
    return {
      name,
      dueAt: () => (done ? null : dueAt()),
      onlyWhenScheduled,
      run: () => {
        ran.push(name);
        done = true;
      },
    };
  };
  const make = (steps: AlarmStep[]) => new QueueAlarm({ storage: storage, steps, queueName: () => "q", now: () => now });
  return { set, ran, step, make };
}

describe("QueueAlarm.run", () => {
  it("runs only the steps whose work is due; a step due later or with nothing is not run", async () => {
    const { ran, step, make } = harness(1_000);
    const alarm = make([
      step("delayed delivery", () => 900),
      step("transaction checks", () => 5_000),
      step("retention", () => null),
      step("pop visibility", () => 1_000),
    ]);
    await alarm.run();
    expect(ran).toEqual(["delayed delivery", "pop visibility"]);
  });

  it("carries a scheduled-only step (the replication push) along whenever it is scheduled, even not yet due", async () => {
    const { ran, step, make } = harness(1_000);
    const alarm = make([step("delayed delivery", () => 1_000), step("replication push", () => 1_040, true)]);
    await alarm.run();
    expect(ran).toEqual(["delayed delivery", "replication push"]);
    ran.length = 0;
    await alarm.run();
    expect(ran).toEqual([]);
  });

  it("re-arms for the earliest work that is still due after the run", async () => {
    const { set, step, make } = harness(1_000);
    const alarm = make([step("delayed delivery", () => 900), step("transaction checks", () => 5_000)]);
    await alarm.run();
    expect(set).toEqual([5_000]);
  });
});
