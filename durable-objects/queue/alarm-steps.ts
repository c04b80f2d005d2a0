/**
 * The steps of a queue's alarm (delayed delivery, transaction checks, forgetting decisions,
 * retention, the replication push) run isolated from each other: a step that throws does not
 * stop the ones after it, backs off on its own, and is logged once per failure streak with the
 * queue's name (alarms can fire every second; a log line per run would drown the operator).
 */
export type AlarmStepName =
  "delayed delivery" | "transaction checks" | "forget decided transactions" | "retention" | "replication push" | "pop visibility" | "push delivery";

interface Failing {
  failures: number;
  /** The step is not run again before this time. */
  retryAt: number;
}

/** A failing step waits 1 s, then twice as long each time, up to a minute. */
export function stepBackoffMs(failures: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.min(Math.max(0, failures - 1), 6));
}

export class AlarmSteps {
  private readonly failing = new Map<AlarmStepName, Failing>();

  /**
   * @param queueName names the queue in log lines (read when logging: a queue learns its name late).
   * @param log where failures and recoveries are reported (default console.error).
   */
  constructor(
    private readonly queueName: () => string,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  /**
   * Runs one step unless it is backing off; never throws. Returns whether the step ran and
   * succeeded.
   */
  async run(step: AlarmStepName, now: number, fn: () => void | Promise<void>): Promise<boolean> {
    const failing = this.failing.get(step);
    if (failing && now < failing.retryAt) return false;
    try {
      await fn();
    } catch (e) {
      const failures = (failing?.failures ?? 0) + 1;
      this.failing.set(step, { failures, retryAt: now + stepBackoffMs(failures) });
      if (!failing) {
        this.log(
          `queue ${this.queueName()}: alarm step "${step}" failed: ${describe(e)}. ` +
            "The other steps go on; this one is retried with backoff and not logged again until it recovers.",
        );
      }
      return false;
    }
    if (failing) {
      this.failing.delete(step);
      this.log(`queue ${this.queueName()}: alarm step "${step}" recovered after ${failing.failures} failed runs`);
    }
    return true;
  }

  /**
   * When a step's due work may run: `dueAt` itself, or the end of its backoff while it is
   * failing, so a step that keeps failing does not re-fire the alarm at once, forever.
   */
  dueAt(step: AlarmStepName, dueAt: number | null): number | null {
    if (dueAt === null) return null;
    const failing = this.failing.get(step);
    return failing ? Math.max(dueAt, failing.retryAt) : dueAt;
  }

  /** The steps failing now, for stats and tests. */
  failingSteps(): AlarmStepName[] {
    return [...this.failing.keys()];
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
