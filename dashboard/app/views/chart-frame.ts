/**
 * The SVG frame the dashboard's charts draw in (the topics' rates, a group's lag): a fixed
 * viewBox stretched to its box, a baseline, and a label for screen readers. The shapes
 * (rate-chart-shape.ts, lag-history.ts) are computed for CHART_BOX.
 */
import { svg } from "../dom.js";

export const CHART_BOX = { width: 600, height: 120, padding: 6 };

/** An `<svg>` with id and test id `id`, its baseline, then `content`. */
export function chartFrame(id: string, label: string, ...content: SVGElement[]): SVGSVGElement {
  const bottom = CHART_BOX.height - CHART_BOX.padding;
  return svg(
    "svg",
    { id, "data-testid": id, viewBox: `0 0 ${CHART_BOX.width} ${CHART_BOX.height}`, preserveAspectRatio: "none", role: "img", "aria-label": label },
    svg("line", { x1: 0, y1: bottom, x2: CHART_BOX.width, y2: bottom }),
    ...content,
  );
}
