import { describe, expect, it } from "vitest";
import { matchesTag, parseTagExpression } from "./tag-filter.js";

describe("parseTagExpression", () => {
  it.each([["*"], [""], [undefined], ["  *  "], ["   "]])("%j subscribes to everything", (expression) => {
    const f = parseTagExpression(expression);
    expect(f.all).toBe(true);
    expect(f.tags.size).toBe(0);
  });

  it("parses 'A || B' as the set {A, B}", () => {
    const f = parseTagExpression("A || B");
    expect(f.all).toBe(false);
    expect([...f.tags].sort()).toEqual(["A", "B"]);
  });

  it("trims tags and drops empty parts", () => {
    expect([...parseTagExpression("A||B").tags].sort()).toEqual(["A", "B"]);
    expect([...parseTagExpression("  TagA  ").tags]).toEqual(["TagA"]);
    expect([...parseTagExpression("A ||  || B||").tags].sort()).toEqual(["A", "B"]);
    expect([...parseTagExpression("A || A").tags]).toEqual(["A"]);
  });
});

describe("matchesTag", () => {
  it("'*', '' and undefined match every message, tagged or not", () => {
    for (const expression of ["*", "", undefined]) {
      const f = parseTagExpression(expression);
      expect(matchesTag(f, "")).toBe(true);
      expect(matchesTag(f, "A")).toBe(true);
      expect(matchesTag(f, "anything")).toBe(true);
    }
  });

  it("'A || B' matches exactly A and B", () => {
    const f = parseTagExpression("A || B");
    expect(matchesTag(f, "A")).toBe(true);
    expect(matchesTag(f, "B")).toBe(true);
    expect(matchesTag(f, "C")).toBe(false);
    expect(matchesTag(f, "a")).toBe(false);
    expect(matchesTag(f, "AB")).toBe(false);
    expect(matchesTag(f, "A || B")).toBe(false);
  });

  it("a message without tags matches only a subscribe-all expression", () => {
    for (const expression of ["A", "A || B", "TagA||TagB||TagC", "  x  "]) {
      expect(matchesTag(parseTagExpression(expression), ""), expression).toBe(false);
    }
    expect(matchesTag(parseTagExpression("*"), "")).toBe(true);
  });

  it("compares exact strings", () => {
    const f = parseTagExpression("TagA");
    expect(matchesTag(f, "TagA")).toBe(true);
    expect(matchesTag(f, "taga")).toBe(false);
    expect(matchesTag(f, "TagA2")).toBe(false);
    expect(matchesTag(f, "Tag")).toBe(false);
  });
});
