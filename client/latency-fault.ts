/**
 * Producer fault avoidance, as RocketMQ's MQFaultStrategy / LatencyFaultToleranceImpl: after a
 * slow or failed send, the broker is avoided for a time that grows with the latency seen, then
 * tried again. A failure counts as the highest latency (isolation).
 */
export interface LatencyFaultOptions {
  /** Latency thresholds in ms (RocketMQ 4.x: 50, 100, 550, 1000, 2000, 3000, 15000). */
  latencyMaxMs?: readonly number[];
  /** How long a broker is avoided past each threshold (RocketMQ 4.x: 0, 0, 30 s, 60 s, 120 s, 180 s, 600 s). */
  notAvailableDurationMs?: readonly number[];
  /** Clock, injectable for tests. */
  now?: () => number;
}

const LATENCY_MAX_MS = [50, 100, 550, 1000, 2000, 3000, 15_000];
const NOT_AVAILABLE_MS = [0, 0, 30_000, 60_000, 120_000, 180_000, 600_000];
/** What a failed send counts as (RocketMQ passes 30000 with isolation). */
const ISOLATION_LATENCY_MS = 30_000;

interface FaultItem {
  latencyMs: number;
  availableAt: number;
}

export class LatencyFaultTolerance {
  private readonly items = new Map<string, FaultItem>();
  private readonly latencyMax: readonly number[];
  private readonly notAvailable: readonly number[];
  private readonly now: () => number;

  constructor(options: LatencyFaultOptions = {}) {
    this.latencyMax = options.latencyMaxMs ?? LATENCY_MAX_MS;
    this.notAvailable = options.notAvailableDurationMs ?? NOT_AVAILABLE_MS;
    if (this.latencyMax.length !== this.notAvailable.length) throw new RangeError("latency and duration tables differ in length");
    this.now = options.now ?? Date.now;
  }

  /** Records a send's outcome: its latency, or a failure (isolation). */
  update(brokerName: string, latencyMs: number, failed: boolean): void {
    const effective = failed ? ISOLATION_LATENCY_MS : latencyMs;
    this.items.set(brokerName, { latencyMs: effective, availableAt: this.now() + this.durationFor(effective) });
  }

  isAvailable(brokerName: string): boolean {
    const item = this.items.get(brokerName);
    return !item || this.now() >= item.availableAt;
  }

  /** Among avoided brokers, the one to try when every broker is avoided: soonest available, then fastest. */
  pickOneAtLeast(brokers: readonly string[]): string | undefined {
    return [...brokers].sort((a, b) => {
      const x = this.items.get(a);
      const y = this.items.get(b);
      return (x?.availableAt ?? 0) - (y?.availableAt ?? 0) || (x?.latencyMs ?? 0) - (y?.latencyMs ?? 0);
    })[0];
  }

  private durationFor(latencyMs: number): number {
    for (let i = this.latencyMax.length - 1; i >= 0; i--) {
      if (latencyMs >= this.latencyMax[i]!) return this.notAvailable[i]!;
    }
    return 0;
  }
}
