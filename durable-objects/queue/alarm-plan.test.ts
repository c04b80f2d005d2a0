/**
 * When a queue object's alarm fires (alarm-plan.ts): the earliest due work, never at or before
 * now, and no alarm at all when nothing is due; the alarm is only written to move it earlier or
 * to replace one whose time has passed.
 */
import { describe, expect, it } from "vitest";
import { mustRearm, nextAlarmAt, type DueWork } from "./alarm-plan.js";

const NOW = 1_700_000_000_000;
const NOTHING: DueWork = {
  "delayed delivery": null,
  "transaction checks": null,
  "forget decided transactions": null,
  retention: null,
  "replication push": null,
};

describe("nextAlarmAt", () => {
  it("is null when nothing is due: an object with nothing to do has no alarm", () => {
    expect(nextAlarmAt(NOTHING, NOW)).toBeNull();
    expect(nextAlarmAt({}, NOW)).toBeNull();
  });

  it("points at the earliest due work, whichever step it belongs to", () => {
    const due: DueWork = { ...NOTHING, "delayed delivery": NOW + 5000, "transaction checks": NOW + 60_000, retention: NOW + 3_600_000 };
    expect(nextAlarmAt(due, NOW)).toBe(NOW + 5000);
    expect(nextAlarmAt({ ...due, "replication push": NOW + 100 }, NOW)).toBe(NOW + 100);
    expect(nextAlarmAt({ ...NOTHING, "forget decided transactions": NOW + 7 }, NOW)).toBe(NOW + 7);
    expect(nextAlarmAt({ ...NOTHING, retention: NOW + 3_600_000 }, NOW)).toBe(NOW + 3_600_000);
  });

  it("never arms at or before now, so the run that is ending does not swallow it", () => {
    expect(nextAlarmAt({ ...NOTHING, "delayed delivery": NOW - 60_000 }, NOW)).toBe(NOW + 1);
    expect(nextAlarmAt({ ...NOTHING, "replication push": NOW }, NOW)).toBe(NOW + 1);
    expect(nextAlarmAt({ ...NOTHING, "replication push": NOW + 1 }, NOW)).toBe(NOW + 1);
    expect(nextAlarmAt({ ...NOTHING, "replication push": NOW + 2 }, NOW)).toBe(NOW + 2);
    // Overdue work with later work beside it still fires at once.
    expect(nextAlarmAt({ ...NOTHING, "transaction checks": 0, retention: NOW + 10 }, NOW)).toBe(NOW + 1);
  });
});

describe("mustRearm", () => {
  it("writes the alarm when none is set", () => {
    expect(mustRearm(null, NOW + 10, NOW)).toBe(true);
  });

  it("keeps an alarm set at or before the next due work, and moves one set later", () => {
    expect(mustRearm(NOW + 10, NOW + 10, NOW)).toBe(false);
    expect(mustRearm(NOW + 5, NOW + 10, NOW)).toBe(false);
    expect(mustRearm(NOW + 11, NOW + 10, NOW)).toBe(true);
  });

  it("writes again over an alarm whose time has come: it may belong to a run that is over", () => {
    expect(mustRearm(NOW, NOW + 10, NOW)).toBe(true);
    expect(mustRearm(NOW - 1000, NOW + 10, NOW)).toBe(true);
    expect(mustRearm(NOW + 1, NOW + 10, NOW)).toBe(false);
  });
});
