/**
 * Total-lag samples of consumer groups, kept while the page is open, and the geometry of the
 * chart drawn from them: pure, so the sampling and scaling rules are unit-tested.
 */

export interface LagSample {
  /** Epoch ms. */
  t: number;
  v: number;
}

export interface LagHistoryOptions {
  /** Samples kept per group and topic filter; default 240. */
  maxSamples?: number;
  /**
   * A sample this close to the previous one replaces it instead of adding a point (the group
   * list and the open detail both read the lag in one refresh).
   */
  mergeWithinMs: number;
}

export class LagHistory {
  private readonly series = new Map<string, LagSample[]>();
  private readonly maxSamples: number;

  constructor(private readonly options: LagHistoryOptions) {
    this.maxSamples = options.maxSamples ?? 240;
  }

  /** Adds a sample of a group's total lag (`topic` "" for all its topics) and returns the series. */
  record(group: string, topic: string, totalLag: number, nowMs: number): readonly LagSample[] {
    const key = `${group}\u0000${topic}`;
    let samples = this.series.get(key);
    if (!samples) this.series.set(key, (samples = []));
    const last = samples[samples.length - 1];
    if (last && nowMs - last.t < this.options.mergeWithinMs) last.v = totalLag;
    else samples.push({ t: nowMs, v: totalLag });
    if (samples.length > this.maxSamples) samples.splice(0, samples.length - this.maxSamples);
    return samples;
  }

  samples(group: string, topic: string): readonly LagSample[] {
    return this.series.get(`${group}\u0000${topic}`) ?? [];
  }
}

export interface ChartBox {
  width: number;
  height: number;
  padding: number;
}

export interface ChartShape {
  /** The polyline's points attribute. */
  points: string;
  last: { x: string; y: string; v: number };
  max: number;
  spanMs: number;
}

/** Time on x (first to last sample), lag on y from 0 to the largest sample (at least 1). */
export function chartShape(samples: readonly LagSample[], box: ChartBox): ChartShape | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return null;
  const spanMs = Math.max(1, last.t - first.t);
  const max = Math.max(1, ...samples.map((s) => s.v));
  const x = (t: number) => (box.padding + ((t - first.t) / spanMs) * (box.width - 2 * box.padding)).toFixed(1);
  const y = (v: number) => (box.height - box.padding - (v / max) * (box.height - 2 * box.padding)).toFixed(1);
  return {
    points: samples.map((s) => `${x(s.t)},${y(s.v)}`).join(" "),
    last: { x: x(last.t), y: y(last.v), v: last.v },
    max,
    spanMs,
  };
}
