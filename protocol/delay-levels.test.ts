import { describe, expect, it } from "vitest";
import { DEFAULT_DELAY_LEVELS, delayForLevel, parseDelayLevels } from "./delay-levels.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/** RocketMQ's messageDelayLevel default, level by level (level N at index N - 1). */
const ROCKETMQ_DEFAULT_MS = [1 * S, 5 * S, 10 * S, 30 * S, 1 * M, 2 * M, 3 * M, 4 * M, 5 * M, 6 * M, 7 * M, 8 * M, 9 * M, 10 * M, 20 * M, 30 * M, 1 * H, 2 * H];

describe("parseDelayLevels", () => {
  it("the default table is RocketMQ's 18 levels", () => {
    expect(DEFAULT_DELAY_LEVELS).toBe("1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h");
  });

  it("parses the default table into exact milliseconds for all 18 levels", () => {
    const levels = parseDelayLevels(DEFAULT_DELAY_LEVELS);
    expect(levels).toEqual(ROCKETMQ_DEFAULT_MS);
    expect(levels).toEqual([
      1000, 5000, 10000, 30000, 60000, 120000, 180000, 240000, 300000, 360000, 420000, 480000, 540000, 600000, 1200000, 1800000, 3600000, 7200000,
    ]);
  });

  it.each([
    ["1ms", 1],
    ["250ms", 250],
    ["1s", 1000],
    ["7s", 7000],
    ["1m", 60_000],
    ["15m", 900_000],
    ["1h", 3_600_000],
    ["3h", 10_800_000],
    ["1d", 86_400_000],
    ["2d", 172_800_000],
    ["0s", 0],
  ])("parses %s as %i ms", (entry, ms) => {
    expect(parseDelayLevels(entry)).toEqual([ms]);
  });

  it("keeps the order of the table and mixes units", () => {
    expect(parseDelayLevels("100ms 2s 1m 1h 1d 5ms")).toEqual([100, 2000, 60_000, 3_600_000, 86_400_000, 5]);
  });

  it("accepts surrounding and repeated whitespace", () => {
    expect(parseDelayLevels("  1s\t 2s\n3s  ")).toEqual([1000, 2000, 3000]);
  });

  it.each([
    ["empty table", ""],
    ["blank table", "   "],
    ["no unit", "1s 5"],
    ["unknown unit", "1s 5x"],
    ["upper-case unit", "1S"],
    ["unit only", "s"],
    ["negative", "-1s"],
    ["fraction", "1.5s"],
    ["unit before number", "s1"],
    ["space between number and unit", "1 s"],
    ["comma separated", "1s,5s"],
    ["seconds spelled out", "1sec"],
  ])("throws on a bad entry (%s)", (_name, table) => {
    expect(() => parseDelayLevels(table)).toThrow(/bad delay level/);
  });

  it("names the bad entry in the error", () => {
    expect(() => parseDelayLevels("1s 2s 3q 4s")).toThrow('bad delay level "3q"');
  });
});

describe("delayForLevel", () => {
  const levels = parseDelayLevels(DEFAULT_DELAY_LEVELS);

  it("level 0 means no delay", () => {
    expect(delayForLevel(levels, 0)).toBe(0);
  });

  it("negative levels mean no delay", () => {
    expect(delayForLevel(levels, -1)).toBe(0);
    expect(delayForLevel(levels, -18)).toBe(0);
  });

  it("level N is the Nth entry of the table", () => {
    for (let level = 1; level <= 18; level++) expect(delayForLevel(levels, level)).toBe(ROCKETMQ_DEFAULT_MS[level - 1]);
    expect(delayForLevel(levels, 1)).toBe(1000);
    expect(delayForLevel(levels, 3)).toBe(10_000);
    expect(delayForLevel(levels, 18)).toBe(7_200_000);
  });

  it("levels above the table clamp to its last entry", () => {
    expect(delayForLevel(levels, 19)).toBe(7_200_000);
    expect(delayForLevel(levels, 1000)).toBe(7_200_000);
    const short = parseDelayLevels("10ms 20ms 30ms");
    expect(delayForLevel(short, 3)).toBe(30);
    expect(delayForLevel(short, 4)).toBe(30);
    expect(delayForLevel(short, 99)).toBe(30);
  });

  it("an empty table delays nothing", () => {
    expect(delayForLevel([], 0)).toBe(0);
    expect(delayForLevel([], 1)).toBe(0);
    expect(delayForLevel([], 18)).toBe(0);
  });
});
