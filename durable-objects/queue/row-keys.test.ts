import { describe, expect, it } from "vitest";
import { frameKeys, joinFramedKeys, splitFramedKeys, utf8Length } from "./row-keys.js";

const encoder = new TextEncoder();

describe("row keys", () => {
  it("item 1: cuts a row's keys into framed parts within the byte limit, whole keys only, and joins them back", () => {
    const keys = Array.from({ length: 500 }, (_, i) => `${i}-`.padEnd(255, i % 3 === 0 ? "\u20ac" : i % 3 === 1 ? "k" : "\u{1F511}".slice(0, 1) + "x"));
    const framed = frameKeys(keys);
    const parts = splitFramedKeys(framed, 16 * 1024);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(encoder.encode(part).length).toBeLessThanOrEqual(16 * 1024);
      expect(part.startsWith("\u0001") && part.endsWith("\u0001")).toBe(true);
    }
    // Every key is whole in exactly one part, so instr() on "\u0001key\u0001" finds it there.
    for (const key of keys) expect(parts.filter((p) => p.includes(`\u0001${key}\u0001`))).toHaveLength(1);
    expect(joinFramedKeys(parts)).toBe(framed);
    expect(splitFramedKeys(frameKeys(["a", "b"]))).toEqual([frameKeys(["a", "b"])]);
  });

  it("counts UTF-8 bytes as SQLite stores them", () => {
    for (const s of ["", "abc", "é", "\u20ac", "\u{1F511}", "a\u{1F511}é\u20ac", "\ud800"]) {
      expect(utf8Length(s)).toBe(encoder.encode(s).length);
    }
  });
});
