/**
 * When a queue object's one alarm should fire (Durable Objects have one alarm each; timers live
 * in SQLite and the alarm points at the earliest). Pure, so the rules are tested without
 * workerd. An object with nothing due has no alarm: nothing arms one, and the alarm that
 * fired is not set again.
 */
import type { AlarmStepName } from "./alarm-steps.js";

/**
 * When each alarm step next has work, or null (or absent) when it has none, each already held
 * back to the end of its backoff while the step is failing (AlarmSteps.dueAt).
 */
export type DueWork = Readonly<Partial<Record<AlarmStepName, number | null>>>;

/**
 * The time to arm the alarm for: the earliest due work, but never at or before `now` (an alarm
 * set to the time of the run that is ending may be taken for that run and dropped). Null when
 * nothing is due.
 */
export function nextAlarmAt(due: DueWork, now: number): number | null {
  const times = Object.values(due).filter((t): t is number => typeof t === "number");
  if (times.length === 0) return null;
  return Math.max(Math.min(...times), now + 1);
}

/**
 * Whether the alarm must be written to fire at `next`, given the time it was last set for
 * (`armedAt`, mirrored in memory so arming costs no read): only to move it earlier, or when
 * the armed time has passed (it may belong to a run that is over).
 */
export function mustRearm(armedAt: number | null, next: number, now: number): boolean {
  return !(armedAt !== null && armedAt > now && armedAt <= next);
}
