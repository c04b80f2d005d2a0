/** The total-lag chart of the group detail: an SVG line over the samples taken while the page is open. */
import { h, svg } from "../dom.js";
import { fmtInt } from "../format.js";
import { chartShape, type LagSample } from "../lag-history.js";
import { CHART_BOX, chartFrame } from "./chart-frame.js";

export class LagChart {
  readonly element: HTMLDivElement;
  private readonly line = svg("polyline", { points: "" });
  private readonly dot = svg("circle", { r: 0 });
  private readonly chart = chartFrame("lag-chart", "total lag over time", this.line, this.dot);
  private readonly caption = h("div", { class: "muted", "data-testid": "lag-chart-caption" });

  constructor() {
    this.element = h("div", { class: "chart-box" }, this.chart, this.caption);
  }

  render(samples: readonly LagSample[]): void {
    this.chart.dataset.samples = String(samples.length);
    const shape = chartShape(samples, CHART_BOX);
    if (!shape) {
      this.line.setAttribute("points", "");
      this.dot.setAttribute("r", "0");
      this.caption.textContent = "no samples yet";
      return;
    }
    this.line.setAttribute("points", shape.points);
    this.dot.setAttribute("cx", shape.last.x);
    this.dot.setAttribute("cy", shape.last.y);
    this.dot.setAttribute("r", "3");
    this.caption.textContent = `${samples.length} samples over ${Math.round(shape.spanMs / 1000)} s · now ${fmtInt(shape.last.v)} · max ${fmtInt(shape.max)}`;
  }
}
