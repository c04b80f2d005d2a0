/**
 * A queue object's one alarm: the steps a run takes, in order (delayed delivery, transaction
 * checks, forgetting decisions, retention, the replication push), and where the alarm points
 * afterwards. Timers live in SQLite with the work they belong to; the alarm points at the
 * earliest (alarm-plan.ts decides when), and the time it was set for is mirrored in memory so
 * arming costs no read. Alarms are at-least-once: every step only does work that is due, so an
 * extra run changes nothing. Each step runs isolated from the others (alarm-steps.ts).
 *
 * A run takes only the steps whose work is due: most runs fire for one step (an ASYNC_MASTER's
 * replication push fires one every ASYNC_REPLICATION_DELAY_MS while sends arrive), and asking
 * every other step to look for due work cost more CPU than the push itself.
 */
import { mustRearm, nextAlarmAt } from "./alarm-plan.js";
import { AlarmSteps, type AlarmStepName } from "./alarm-steps.js";

export interface AlarmStep {
  name: AlarmStepName;
  /** When the step next has work, or null when it has none. */
  dueAt(): number | null;
  run(now: number): void | Promise<void>;
  /**
   * Run whenever work is scheduled (dueAt not null), even not yet due, so any run carries it
   * along; other steps run only once their dueAt has come.
   */
  onlyWhenScheduled?: boolean;
}

export interface QueueAlarmDeps {
  storage: Pick<DurableObjectStorage, "getAlarm" | "setAlarm">;
  /** The steps, in the order a run takes them. */
  steps: readonly AlarmStep[];
  /** Names the queue in log lines (read when logging: a queue learns its name late). */
  queueName: () => string;
  now: () => number;
}

export class QueueAlarm {
  /** The alarm time this object has set, mirrored in memory so arming costs no read. */
  private armedAt: number | null = null;
  /** The alarm's steps, isolated from each other and logged once per failure streak. */
  private readonly isolation: AlarmSteps;

  constructor(private readonly deps: QueueAlarmDeps) {
    this.isolation = new AlarmSteps(deps.queueName);
  }

  /** Reads the alarm left set, then arms for due work: an alarm lost to a crash is set again. */
  async start(): Promise<void> {
    this.armedAt = await this.deps.storage.getAlarm();
    await this.arm();
  }

  /**
   * The alarm handler: runs each step with due work (a failing one backs off and is logged
   * once, the others go on) and re-arms the alarm whatever happened.
   */
  async run(): Promise<void> {
    this.armedAt = null;
    const now = this.deps.now();
    try {
      for (const step of this.deps.steps) {
        if (!isDue(step, now)) continue;
        await this.isolation.run(step.name, now, () => step.run(now));
      }
    } finally {
      await this.arm();
    }
  }

  /** Points the alarm at the earliest due work, writing only when it must move earlier. */
  async arm(): Promise<void> {
    // A failing step's work waits for its backoff, so it cannot re-fire the alarm at once.
    const due: Partial<Record<AlarmStepName, number | null>> = {};
    for (const s of this.deps.steps) due[s.name] = this.isolation.dueAt(s.name, s.dueAt());
    const now = this.deps.now();
    const next = nextAlarmAt(due, now);
    if (next === null || !mustRearm(this.armedAt, next, now)) return;
    this.armedAt = next;
    await this.deps.storage.setAlarm(next);
  }

  /**
   * Moves the alarm to `at` if it is set later or not at all; the cheap path for work every
   * append may make due (retention), which only ever needs the alarm earlier.
   */
  async moveEarlier(at: number | null): Promise<void> {
    if (at === null || (this.armedAt !== null && this.armedAt <= at)) return;
    this.armedAt = at;
    await this.deps.storage.setAlarm(at);
  }

  /** Forgets the alarm time (a purge deleted the alarm with the storage). */
  forget(): void {
    this.armedAt = null;
  }
}

/** Whether a run at `now` takes the step: its work has come due (or, for a scheduled-only step, is scheduled at all). */
function isDue(step: AlarmStep, now: number): boolean {
  const dueAt = step.dueAt();
  if (dueAt === null) return false;
  return step.onlyWhenScheduled === true || dueAt <= now;
}
