import { describe, expect, it } from "vitest";
import { chartShape, LagHistory } from "./lag-history.js";

describe("LagHistory", () => {
  it("keeps one series per group and topic filter", () => {
    const history = new LagHistory({ mergeWithinMs: 500 });
    history.record("g", "", 5, 1000);
    history.record("g", "T", 2, 1000);
    history.record("h", "", 9, 1000);
    expect(history.samples("g", "")).toEqual([{ t: 1000, v: 5 }]);
    expect(history.samples("g", "T")).toEqual([{ t: 1000, v: 2 }]);
    expect(history.samples("x", "")).toEqual([]);
  });

  it("replaces a sample taken within mergeWithinMs of the last one instead of adding a point", () => {
    const history = new LagHistory({ mergeWithinMs: 500 });
    history.record("g", "", 5, 1000);
    history.record("g", "", 6, 1499);
    expect(history.samples("g", "")).toEqual([{ t: 1000, v: 6 }]);
    history.record("g", "", 7, 1500);
    expect(history.samples("g", "")).toEqual([
      { t: 1000, v: 6 },
      { t: 1500, v: 7 },
    ]);
  });

  it("keeps the newest maxSamples", () => {
    const history = new LagHistory({ mergeWithinMs: 0, maxSamples: 3 });
    for (let i = 1; i <= 5; i++) history.record("g", "", i, i * 1000);
    expect(history.samples("g", "").map((s) => s.v)).toEqual([3, 4, 5]);
  });
});

describe("chartShape", () => {
  const box = { width: 600, height: 120, padding: 6 };

  it("draws nothing without samples", () => {
    expect(chartShape([], box)).toBeNull();
  });

  it("spans time on x and 0 to the largest lag on y, inside the padding", () => {
    const shape = chartShape(
      [
        { t: 0, v: 0 },
        { t: 500, v: 10 },
        { t: 1000, v: 5 },
      ],
      box,
    );
    expect(shape).toEqual({ points: "6.0,114.0 300.0,6.0 594.0,60.0", last: { x: "594.0", y: "60.0", v: 5 }, max: 10, spanMs: 1000 });
  });

  it("draws one sample at the left edge, and a lag of zero on the baseline", () => {
    expect(chartShape([{ t: 7, v: 0 }], box)).toEqual({ points: "6.0,114.0", last: { x: "6.0", y: "114.0", v: 0 }, max: 1, spanMs: 1 });
  });
});
