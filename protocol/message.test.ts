import { describe, expect, it } from "vitest";
import { hasPropertySeparator, propertiesSize } from "./message.js";

describe("propertiesSize", () => {
  it("is 0 with nothing set", () => {
    expect(propertiesSize("", [], {})).toBe(0);
  });

  it("counts TAGS as name, value and two separators", () => {
    expect(propertiesSize("TagA", [], {})).toBe(4 + 4 + 2);
  });

  it("counts KEYS joined with spaces", () => {
    expect(propertiesSize("", ["k1", "k2"], {})).toBe(4 + "k1 k2".length + 2);
    expect(propertiesSize("", ["only"], {})).toBe(4 + 4 + 2);
  });

  it("counts each user property", () => {
    expect(propertiesSize("", [], { a: "b" })).toBe(1 + 1 + 2);
    expect(propertiesSize("", [], { a: "b", name: "" })).toBe(4 + 4 + 0 + 2);
  });

  it("counts UTF-8 bytes, not UTF-16 units", () => {
    expect(propertiesSize("é", [], {})).toBe(4 + 2 + 2);
    expect(propertiesSize("", [], { é: "中" })).toBe(2 + 3 + 2);
    expect(propertiesSize("", ["😀"], {})).toBe(4 + 4 + 2);
  });

  it("sums tags, keys and properties", () => {
    expect(propertiesSize("TagA", ["k1", "k2"], { a: "b", cc: "dd" })).toBe(10 + 11 + 4 + 6);
  });
});

describe("hasPropertySeparator", () => {
  it("finds \\u0001 and \\u0002 anywhere", () => {
    expect(hasPropertySeparator("\u0001")).toBe(true);
    expect(hasPropertySeparator("a\u0002")).toBe(true);
    expect(hasPropertySeparator("ab\u0001cd")).toBe(true);
  });

  it("accepts text without them", () => {
    expect(hasPropertySeparator("")).toBe(false);
    expect(hasPropertySeparator("abc")).toBe(false);
    expect(hasPropertySeparator("\u0000\u0003\n\t中")).toBe(false);
  });
});
