/**
 * The topics view's chart of message rates over time: one line per busy topic (messages in per
 * second, as the Rate column shows, sampled at each refresh while the page is open), on one
 * scale, with a legend giving each line's topic and its current rate. Colours come from the
 * stylesheet's series classes (s0..s5): the page's CSP allows no inline styles.
 */
import { h, svg } from "../dom.js";
import { multiChartShape, busiestSeries, type Series } from "../rate-chart-shape.js";
import { CHART_BOX, chartFrame } from "./chart-frame.js";

/** Lines drawn at most (stylesheet classes s0..s5); the busiest topics win. */
export const MAX_RATE_LINES = 6;

export class RateChart {
  readonly element: HTMLDivElement;
  private readonly lines = svg("g");
  private readonly chart = chartFrame("rate-chart", "messages in per second, per topic, over time", this.lines);
  private readonly legend = h("ul", { class: "legend", "data-testid": "rate-legend" });
  private readonly caption = h("div", { class: "muted", "data-testid": "rate-chart-caption" });

  constructor() {
    this.element = h("div", { class: "chart-box" }, h("div", { class: "muted" }, "Messages in per second"), this.chart, this.legend, this.caption);
  }

  /** Draws the busiest of `series` (one per topic); data-samples says how many refreshes the longest has. */
  render(series: readonly Series[]): void {
    const picked = busiestSeries(series, MAX_RATE_LINES);
    const shape = multiChartShape(picked, CHART_BOX);
    this.chart.dataset.series = String(shape?.lines.length ?? 0);
    this.chart.dataset.samples = String(Math.max(0, ...series.map((s) => s.samples.length)));
    this.lines.replaceChildren(
      ...(shape?.lines ?? []).map((line, i) => svg("polyline", { class: `s${i}`, points: line.points, "data-topic": line.key, "data-testid": "rate-line" })),
    );
    this.legend.replaceChildren(
      ...(shape?.lines ?? []).map((line, i) =>
        h(
          "li",
          { "data-topic": line.key, "data-testid": "rate-legend-item" },
          h("span", { class: `swatch s${i}` }),
          h("span", { class: "mono" }, line.key),
          h("span", { class: "num", "data-rate": line.last }, ` ${line.last.toFixed(1)}/s`),
        ),
      ),
    );
    this.caption.textContent = shape
      ? `over ${Math.round(shape.spanMs / 1000)} s · max ${shape.max.toFixed(1)} msgs/s${series.length > picked.length ? ` · ${picked.length} busiest of ${series.length} topics` : ""}`
      : "no messages in since the page opened";
  }
}
