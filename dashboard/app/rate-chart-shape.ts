/**
 * The geometry of the topics view's rate chart: several series (one per topic, messages in per
 * second, sampled by the page at each refresh) on one time axis and one y scale, and which
 * topics to draw when there are many. Pure, so the scaling and picking rules are unit-tested.
 */
import type { ChartBox } from "./lag-history.js";
import type { LagSample } from "./lag-history.js";

export interface Series {
  key: string;
  samples: readonly LagSample[];
}

export interface SeriesLine {
  key: string;
  /** The polyline's points attribute. */
  points: string;
  /** The newest sample's value. */
  last: number;
}

export interface MultiChartShape {
  lines: SeriesLine[];
  /** The top of the y axis: the largest sample of any series (at least 1). */
  max: number;
  spanMs: number;
}

/**
 * Time on x from the earliest sample of any series to the latest, value on y from 0 to the
 * largest sample of any series, so lines compare. Series without samples are left out; null
 * when none has any.
 */
export function multiChartShape(series: readonly Series[], box: ChartBox): MultiChartShape | null {
  const drawn = series.filter((s) => s.samples.length > 0);
  if (drawn.length === 0) return null;
  const all = drawn.flatMap((s) => s.samples);
  const t0 = Math.min(...all.map((s) => s.t));
  const t1 = Math.max(...all.map((s) => s.t));
  const spanMs = Math.max(1, t1 - t0);
  const max = Math.max(1, ...all.map((s) => s.v));
  const x = (t: number) => (box.padding + ((t - t0) / spanMs) * (box.width - 2 * box.padding)).toFixed(1);
  const y = (v: number) => (box.height - box.padding - (v / max) * (box.height - 2 * box.padding)).toFixed(1);
  return {
    lines: drawn.map((s) => ({ key: s.key, points: s.samples.map((p) => `${x(p.t)},${y(p.v)}`).join(" "), last: s.samples[s.samples.length - 1]!.v })),
    max,
    spanMs,
  };
}

/**
 * The series worth a line: those that had traffic while the page was open (a sample above 0),
 * busiest first (by their largest sample, then name), at most `limit`.
 */
export function busiestSeries(series: readonly Series[], limit: number): Series[] {
  const peak = (s: Series) => Math.max(0, ...s.samples.map((p) => p.v));
  return series
    .filter((s) => peak(s) > 0)
    .sort((a, b) => peak(b) - peak(a) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, limit);
}
