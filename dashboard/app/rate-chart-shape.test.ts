import { describe, expect, it } from "vitest";
import { busiestSeries, multiChartShape } from "./rate-chart-shape.js";

const BOX = { width: 112, height: 52, padding: 6 }; // a 100 x 40 plot area

describe("multiChartShape", () => {
  it("puts every series on one time axis and one y scale, from 0 to the largest sample", () => {
    const shape = multiChartShape(
      [
        {
          key: "A",
          samples: [
            { t: 1000, v: 0 },
            { t: 2000, v: 10 },
          ],
        },
        {
          key: "B",
          samples: [
            { t: 1500, v: 20 },
            { t: 3000, v: 5 },
          ],
        },
      ],
      BOX,
    );
    expect(shape).toEqual({
      max: 20,
      spanMs: 2000,
      lines: [
        { key: "A", points: "6.0,46.0 56.0,26.0", last: 10 },
        { key: "B", points: "31.0,6.0 106.0,36.0", last: 5 },
      ],
    });
  });

  it("leaves out series without samples, and is null when none has any", () => {
    expect(multiChartShape([{ key: "A", samples: [] }], BOX)).toBeNull();
    expect(
      multiChartShape(
        [
          { key: "A", samples: [] },
          { key: "B", samples: [{ t: 5, v: 0 }] },
        ],
        BOX,
      )?.lines.map((l) => l.key),
    ).toEqual(["B"]);
  });

  it("keeps a scale of at least 1 when every sample is 0 (a flat line at the bottom)", () => {
    expect(multiChartShape([{ key: "A", samples: [{ t: 5, v: 0 }] }], BOX)).toEqual({ max: 1, spanMs: 1, lines: [{ key: "A", points: "6.0,46.0", last: 0 }] });
  });
});

describe("busiestSeries", () => {
  it("keeps series that had traffic, busiest first, names breaking ties, at most the limit", () => {
    const s = (key: string, ...v: number[]) => ({ key, samples: v.map((value, i) => ({ t: i, v: value })) });
    const picked = busiestSeries([s("idle", 0, 0), s("b", 1, 4), s("a", 4, 0), s("top", 9), s("none")], 3);
    expect(picked.map((p) => p.key)).toEqual(["top", "a", "b"]);
  });
});
