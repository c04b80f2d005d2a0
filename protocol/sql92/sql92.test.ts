import { describe, expect, it } from "vitest";
import { compileSql92, MAX_SQL92_LENGTH, Sql92Error } from "./index.js";

type Props = Record<string, string>;

const matches = (expression: string, properties: Props = {}): boolean => compileSql92(expression).matches(properties);

function compileError(expression: string): Sql92Error {
  try {
    compileSql92(expression);
  } catch (e) {
    if (e instanceof Sql92Error) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(expression)} not to compile`);
}

describe("compileSql92 API", () => {
  it("keeps the expression and compiles once for many messages", () => {
    const f = compileSql92("a > 5");
    expect(f.expression).toBe("a > 5");
    expect(f.matches({ a: "6" })).toBe(true);
    expect(f.matches({ a: "5" })).toBe(false);
    expect(f.matches({})).toBe(false);
  });

  it("throws Sql92Error, an Error with a position", () => {
    const e = compileError("a >");
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("Sql92Error");
    expect(e.position).toBe(3);
    expect(e.message).toBe("unexpected end of expression at position 3");
  });

  it("exports MAX_SQL92_LENGTH = 4096", () => {
    expect(MAX_SQL92_LENGTH).toBe(4096);
  });
});

describe("comparison operators with numbers", () => {
  it.each([
    ["a > 5", "6", true],
    ["a > 5", "5", false],
    ["a >= 5", "5", true],
    ["a >= 5", "4", false],
    ["a < 5", "4", true],
    ["a < 5", "5", false],
    ["a <= 5", "5", true],
    ["a <= 5", "6", false],
    ["a = 5", "5", true],
    ["a = 5", "6", false],
    ["a <> 5", "6", true],
    ["a <> 5", "5", false],
    ["a>5", "10", true],
    ["a > 5", "10", true],
    ["a > 5", "-10", false],
    ["a > 5", "+10", true],
    ["a = 5L", "5", true],
    ["a = 5l", "5", true],
    ["a > -1", "0", true],
    ["a > - 1", "0", true],
    ["a > +5", "6", true],
    ["+a > 5", "6", true],
    ["a < -1.5", "-2", true],
    ["a > 3.14", "3.1415", true],
    ["a > 3.1E10", "3.1415E10", true],
    ["a > 3.1e10", "3.0E10", false],
    ["a = .5", "0.5", true],
    ["a = 5.", "5", true],
    ["a = 1.5e-3", "0.0015", true],
    ["a = 10.0", "10", true],
    ["a = 5", "5.0", false],
  ])("%s with a=%j is %s", (expression, a, expected) => {
    expect(matches(expression, { a })).toBe(expected);
  });

  it("compares literals with each other", () => {
    expect(matches("1 < 2")).toBe(true);
    expect(matches("2 <= 1")).toBe(false);
    expect(matches("1 = 1.0")).toBe(true);
    expect(matches("'5' = 5")).toBe(true);
  });
});

describe("numeric coercion of property strings (ComparisonExpression converts)", () => {
  it("a > 5: '10' is true, 'abc' is false, missing is false", () => {
    expect(matches("a > 5", { a: "10" })).toBe(true);
    expect(matches("a > 5", { a: "abc" })).toBe(false);
    expect(matches("a > 5", {})).toBe(false);
  });

  it("a string that is not a number makes every comparison unknown, never true", () => {
    for (const e of ["a > 5", "a < 5", "a = 5", "a <> 5", "NOT (a > 5)", "NOT (a = 5)", "a BETWEEN 0 AND 3", "a NOT BETWEEN 0 AND 3"]) {
      expect(matches(e, { a: "abc" }), e).toBe(false);
    }
  });

  it("an unknown comparison is unknown, so OR with a true side still matches", () => {
    expect(matches("a > 5 OR b = 'x'", { a: "abc", b: "x" })).toBe(true);
    expect(matches("a > 5 AND b = 'x'", { a: "abc", b: "x" })).toBe(false);
  });

  it("an integer literal reads the property as a Java long (Long.valueOf)", () => {
    expect(matches("a > 5", { a: "5.5" })).toBe(false);
    expect(matches("a < 5", { a: "5.5" })).toBe(false);
    expect(matches("a = 10", { a: " 10" })).toBe(false);
    expect(matches("a = 9223372036854775807", { a: "9223372036854775807" })).toBe(true);
    expect(matches("a > 9223372036854775806", { a: "9223372036854775807" })).toBe(true);
    expect(matches("a > 1", { a: "9223372036854775808" })).toBe(false);
    expect(matches("a < 1", { a: "-9223372036854775809" })).toBe(false);
  });

  it("a float literal reads the property as a Java double (Double.valueOf)", () => {
    expect(matches("a > 5.0", { a: "5.5" })).toBe(true);
    expect(matches("a = 10.0", { a: " 10 " })).toBe(true);
    expect(matches("a = 1.5", { a: "1.5f" })).toBe(true);
    expect(matches("a = 1.5", { a: "1.5d" })).toBe(true);
    expect(matches("a > 1.0", { a: "1e3" })).toBe(true);
    expect(matches("a > 5.5", { a: "Infinity" })).toBe(true);
    expect(matches("a > 5.5", { a: "NaN" })).toBe(true); // Double.compareTo puts NaN above everything
    expect(matches("a > 5.5", { a: "1,5" })).toBe(false);
    expect(matches("a > 5.5", { a: "" })).toBe(false);
  });

  it("two properties are ordered as doubles, and compared for equality as strings", () => {
    expect(matches("a > b", { a: "20", b: "10" })).toBe(true);
    expect(matches("a > b", { a: "10", b: "20" })).toBe(false);
    expect(matches("a > b", { a: "x", b: "1" })).toBe(false);
    expect(matches("a = b", { a: "3.14", b: "3.14" })).toBe(true);
    expect(matches("a <> b", { a: "3.14", b: "3.141" })).toBe(true);
    expect(matches("a = b", { a: "1", b: "1.0" })).toBe(false);
    expect(matches("a = b", { a: "1" })).toBe(false);
    expect(matches("a <> b", { a: "1" })).toBe(false);
  });
});

describe("strings", () => {
  it("= and <> compare exactly and case-sensitively", () => {
    expect(matches("b = 'abc'", { b: "abc" })).toBe(true);
    expect(matches("b = 'abc'", { b: "ABC" })).toBe(false);
    expect(matches("b <> 'abc'", { b: "ABC" })).toBe(true);
    expect(matches("b <> 'abc'", { b: "abc" })).toBe(false);
    expect(matches("b = '10'", { b: "10" })).toBe(true);
    expect(matches("b = '10'", { b: "10.0" })).toBe(false);
    expect(matches("'abc' = b", { b: "abc" })).toBe(true);
  });

  it("'' inside a string is one quote", () => {
    expect(matches("a = 'it''s'", { a: "it's" })).toBe(true);
    expect(matches("a = 'it''s'", { a: "its" })).toBe(false);
    expect(matches("a = ''''", { a: "'" })).toBe(true);
    expect(matches("a = ''", { a: "" })).toBe(true);
    expect(matches("TAGS is not null and TAGS='''''tag'''''", { TAGS: "''tag''" })).toBe(true);
  });

  it("keeps spaces, keyword-like text and non-ASCII characters verbatim", () => {
    expect(matches("a = ' x AND y '", { a: " x AND y " })).toBe(true);
    expect(matches("a = 'héllo ✓ 😀'", { a: "héllo ✓ 😀" })).toBe(true);
    expect(matches("a = 'two\nlines'", { a: "two\nlines" })).toBe(true);
  });

  it("a missing property is unknown for = and <>", () => {
    expect(matches("b = 'abc'", {})).toBe(false);
    expect(matches("b <> 'abc'", {})).toBe(false);
    expect(matches("NOT (b = 'abc')", {})).toBe(false);
  });
});

describe("booleans", () => {
  it("a property compares with TRUE/FALSE as Boolean.valueOf reads it", () => {
    expect(matches("c = TRUE", { c: "true" })).toBe(true);
    expect(matches("c = TRUE", { c: "TRUE" })).toBe(true);
    expect(matches("c = TRUE", { c: "false" })).toBe(false);
    expect(matches("c = FALSE", { c: "false" })).toBe(true);
    expect(matches("c = FALSE", { c: "true" })).toBe(false);
    expect(matches("c <> TRUE", { c: "true" })).toBe(false);
    expect(matches("c <> TRUE", { c: "false" })).toBe(true);
    // Boolean.valueOf is false for anything but "true", so "yes" equals FALSE, as in RocketMQ.
    expect(matches("c = FALSE", { c: "yes" })).toBe(true);
    expect(matches("c = TRUE", {})).toBe(false);
    expect(matches("TRUE = c", { c: "true" })).toBe(true);
  });

  it("RocketMQ ExpressionTest: a=TRUE OR b=FALSE", () => {
    expect(matches("a=TRUE OR b=FALSE", { a: "true", b: "false" })).toBe(true);
    expect(matches("a=TRUE OR b=FALSE", { a: "false", b: "true" })).toBe(false);
  });

  it("TRUE, FALSE and NULL are conditions on their own", () => {
    expect(matches("TRUE")).toBe(true);
    expect(matches("FALSE")).toBe(false);
    expect(matches("NULL")).toBe(false);
    expect(matches("NOT FALSE")).toBe(true);
    expect(matches("NOT NULL")).toBe(false);
    expect(matches("TRUE AND a = '1'", { a: "1" })).toBe(true);
  });

  it("a condition can be compared with TRUE/FALSE", () => {
    expect(matches("(a > 1) = TRUE", { a: "2" })).toBe(true);
    expect(matches("(a > 1) = FALSE", { a: "2" })).toBe(false);
    expect(matches("a = 1 = TRUE", { a: "1" })).toBe(true);
    expect(matches("(a > 1) = TRUE", {})).toBe(false);
  });

  it("a bare property is a condition that is FALSE when present and unknown when missing (createBooleanCast)", () => {
    expect(matches("c", { c: "true" })).toBe(false);
    expect(matches("c", {})).toBe(false);
    expect(matches("NOT c", { c: "true" })).toBe(true);
    expect(matches("NOT c", {})).toBe(false);
  });
});

describe("three-valued logic", () => {
  const cases: [string, Props, boolean][] = [
    ["a > 5 OR b = 'x'", { b: "x" }, true],
    ["a > 5 OR b = 'x'", { b: "y" }, false],
    ["a > 5 AND b = 'x'", { b: "x" }, false],
    ["NOT (a > 5 AND b = 'x')", { b: "y" }, true],
    ["NOT (a > 5 AND b = 'x')", { b: "x" }, false],
    ["NOT (a > 5 OR b = 'x')", { b: "y" }, false],
    ["NOT (a > 5 OR b = 'x')", { a: "1", b: "y" }, true],
    ["NOT (a > 5)", {}, false],
    ["NOT (a > 5)", { a: "1" }, true],
    ["NOT NOT (a > 5)", {}, false],
    ["NOT (NOT (a > 5))", { a: "6" }, true],
    ["a IS NULL OR a = 'hello'", {}, true],
    ["a IS NULL OR a = 'hello'", { a: "hello" }, true],
    ["a IS NULL OR a = 'hello'", { a: "abc" }, false],
    ["a is not null and a='hello'", { a: "hello" }, true],
    ["a is not null and a='hello'", {}, false],
    ["(a > 5) IS NULL", {}, true],
    ["(a > 5) IS NULL", { a: "abc" }, true],
    ["(a > 5) IS NOT NULL", { a: "1" }, true],
  ];
  it.each(cases)("%s with %j is %s", (expression, props, expected) => {
    expect(matches(expression, props)).toBe(expected);
  });
});

describe("precedence and parentheses", () => {
  const cases: [string, Props, boolean][] = [
    // AND binds tighter than OR.
    ["a = 1 OR b = 1 AND c = 1", { a: "1", b: "0", c: "0" }, true],
    ["(a = 1 OR b = 1) AND c = 1", { a: "1", b: "0", c: "0" }, false],
    ["a = 1 AND b = 1 OR c = 1", { a: "0", b: "0", c: "1" }, true],
    ["a = 1 AND (b = 1 OR c = 1)", { a: "0", b: "0", c: "1" }, false],
    // NOT binds tighter than AND and OR.
    ["NOT (a = 1) AND b = 1", { a: "2", b: "1" }, true],
    ["NOT (a = 1) AND b = 1", { a: "1", b: "1" }, false],
    ["NOT (a = 1) OR b = 1", { a: "1", b: "1" }, true],
    ["NOT (a = 1 OR b = 1)", { a: "1", b: "2" }, false],
    ["NOT c AND a = 1", { c: "x", a: "1" }, true],
    // BETWEEN's AND belongs to BETWEEN.
    ["a BETWEEN 1 AND 2 AND b = 'x'", { a: "2", b: "x" }, true],
    ["a BETWEEN 1 AND 2 AND b = 'x'", { a: "2", b: "y" }, false],
    ["a BETWEEN 1 AND 2 OR a BETWEEN 5 AND 6", { a: "5" }, true],
    // Nested parentheses.
    ["((((a = 1))))", { a: "1" }, true],
    ["(a = 1 OR (b = 1 AND (c = 1 OR d = 1)))", { a: "0", b: "1", c: "0", d: "1" }, true],
    ["(a = 1 OR (b = 1 AND (c = 1 OR d = 1)))", { a: "0", b: "1", c: "0", d: "0" }, false],
    // Comparisons bind tighter than AND/OR without any parentheses.
    ["a=3 and b<>4 And c>5 AND d<=4", { a: "3", b: "5", c: "6", d: "1" }, true],
    ["a=3 and b<>4 And c>5 AND d<=4", { a: "4", b: "5", c: "6", d: "1" }, false],
    ["a=3 or b<>4 Or c>5 OR d<=4", { a: "4", b: "4", c: "3", d: "2" }, true],
    ["a=3 or b<>4 Or c>5 OR d<=4", { a: "4", b: "4", c: "3", d: "10" }, false],
  ];
  it.each(cases)("%s with %j is %s", (expression, props, expected) => {
    expect(matches(expression, props)).toBe(expected);
  });
});

describe("BETWEEN", () => {
  it("is inclusive at both ends", () => {
    const f = compileSql92("a BETWEEN 2 AND 10");
    expect(["1", "2", "3", "10", "11"].map((a) => f.matches({ a }))).toEqual([false, true, true, true, false]);
  });

  it("NOT BETWEEN is the complement for numbers", () => {
    const f = compileSql92("a NOT BETWEEN 2 AND 10");
    expect(["1", "2", "3", "10", "11"].map((a) => f.matches({ a }))).toEqual([true, false, false, false, true]);
  });

  it("a missing property is false for BETWEEN and NOT BETWEEN", () => {
    expect(matches("a BETWEEN 2 AND 10")).toBe(false);
    expect(matches("a NOT BETWEEN 2 AND 10")).toBe(false);
  });

  it("takes floats, negative bounds, equal bounds and property bounds", () => {
    expect(matches("a BETWEEN 0.5 AND 3.0", { a: "1.5" })).toBe(true);
    expect(matches("a BETWEEN 0 AND 3", { a: "1.5" })).toBe(false); // Long.valueOf("1.5") fails
    expect(matches("a BETWEEN -3 AND -1", { a: "-2" })).toBe(true);
    expect(matches("a BETWEEN 5 AND 5", { a: "5" })).toBe(true);
    expect(matches("a BETWEEN lo AND hi", { a: "3", lo: "1", hi: "5" })).toBe(true);
    expect(matches("a BETWEEN lo AND hi", { a: "6", lo: "1", hi: "5" })).toBe(false);
    expect(matches("a BETWEEN lo AND hi", { a: "3", lo: "1" })).toBe(false);
  });

  it("the RocketMQ doc example: a between 0 and 3", () => {
    const f = compileSql92("a between 0 and 3");
    const got = Array.from({ length: 10 }, (_, i) => i).filter((i) => f.matches({ a: String(i) }));
    expect(got).toEqual([0, 1, 2, 3]);
    expect(f.matches({ b: "1" })).toBe(false);
  });

  it("the RocketMQ doc diagram: a > 5 AND b = 'abc'", () => {
    const f = compileSql92("a > 5 AND b = 'abc'");
    expect(f.matches({ a: "10", b: "abc", c: "true" })).toBe(true);
    expect(f.matches({ a: "1", b: "abc", c: "true" })).toBe(false);
  });
});

describe("IN and NOT IN", () => {
  it("match the listed strings exactly", () => {
    const f = compileSql92("a in ('3', '4', '5')");
    expect(["3", "4", "5", "8", "3.0", " 3"].map((a) => f.matches({ a }))).toEqual([true, true, true, false, false, false]);
  });

  it("NOT IN matches the other strings", () => {
    const f = compileSql92("a not in ('3', '4', '5')");
    expect(["3", "4", "5", "8", ""].map((a) => f.matches({ a }))).toEqual([false, false, false, true, true]);
  });

  it("a missing property is false for both IN and NOT IN", () => {
    expect(matches("a IN ('x')")).toBe(false);
    expect(matches("a NOT IN ('x')")).toBe(false);
    expect(matches("NOT (a IN ('x'))")).toBe(false);
  });

  it("takes one element, escapes and duplicates", () => {
    expect(matches("a IN ('x')", { a: "x" })).toBe(true);
    expect(matches("a IN ('it''s', 'x', 'x')", { a: "it's" })).toBe(true);
    expect(matches("(a) IN ('x')", { a: "x" })).toBe(true);
  });

  it("works on many elements", () => {
    const list = Array.from({ length: 50 }, (_, i) => `'v${i}'`).join(",");
    const f = compileSql92(`a IN (${list})`);
    expect(f.matches({ a: "v49" })).toBe(true);
    expect(f.matches({ a: "v50" })).toBe(false);
  });
});

describe("IS NULL and IS NOT NULL", () => {
  it.each([
    ["a IS NULL", {}, true],
    ["a IS NULL", { abc: "2" }, true],
    ["a IS NULL", { a: "2" }, false],
    ["a IS NULL", { a: "" }, false],
    ["a IS NOT NULL", { a: "2" }, true],
    ["a IS NOT NULL", { a: "" }, true],
    ["a IS NOT NULL", { abc: "2" }, false],
    ["NOT (a IS NULL)", { a: "1" }, true],
    ["5 IS NULL", {}, false],
    ["NULL IS NULL", {}, true],
  ] as [string, Props, boolean][])("%s with %j is %s", (expression, props, expected) => {
    expect(matches(expression, props)).toBe(expected);
  });

  it("looks only at own properties, not Object.prototype", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(matches(`${name} IS NULL`), name).toBe(true);
      expect(matches(`${name} = 'x'`), name).toBe(false);
      expect(matches(`${name} IN ('x')`), name).toBe(false);
    }
    expect(matches("constructor = 'x'", { constructor: "x" })).toBe(true);
  });
});

describe("keywords, identifiers and comments", () => {
  it("keywords are case-insensitive", () => {
    const p = { a: "2", b: "x" };
    expect(matches("a between 1 and 3 and b in ('x') and not (b is null) or false", p)).toBe(true);
    expect(matches("a BeTwEeN 1 AnD 3 AND b Is NoT nUlL", p)).toBe(true);
    expect(matches("a nOt BeTwEeN 1 aNd 3 oR b nOt In ('x')", p)).toBe(false);
    expect(matches("true")).toBe(true);
    expect(matches("c = tRuE", { c: "true" })).toBe(true);
    expect(matches("a IS null", {})).toBe(true);
  });

  it("property names are case-sensitive and may contain _ $ . and digits", () => {
    expect(matches("A = '1'", { a: "1" })).toBe(false);
    expect(matches("a = '1'", { a: "1" })).toBe(true);
    expect(matches("_x1 = '1' AND $y = '2' AND order.id = '3' AND a_b$c.d9 = '4'", { _x1: "1", $y: "2", "order.id": "3", "a_b$c.d9": "4" })).toBe(true);
  });

  it("whitespace of all kinds and comments are skipped", () => {
    expect(matches("\ta\n=\r'1'\f", { a: "1" })).toBe(true);
    expect(matches("a = '1' -- trailing comment", { a: "1" })).toBe(true);
    expect(matches("-- leading comment\na = '1'", { a: "1" })).toBe(true);
    expect(matches("/* block */ a /* inside */ = '1'", { a: "1" })).toBe(true);
  });
});

describe("TAGS", () => {
  const f = compileSql92("TAGS IN ('TagA','TagB') AND a BETWEEN 0 AND 3");

  it.each([
    [{ TAGS: "TagA", a: "0" }, true],
    [{ TAGS: "TagB", a: "3" }, true],
    [{ TAGS: "TagC", a: "2" }, false],
    [{ TAGS: "TagA", a: "4" }, false],
    [{ TAGS: "TagA" }, false],
    [{ a: "1" }, false],
    [{ TAGS: "taga", a: "1" }, false],
  ] as [Props, boolean][])("%j is %s", (props, expected) => {
    expect(f.matches(props)).toBe(expected);
  });

  it("works with = , <>, IS NULL and OR", () => {
    expect(matches("TAGS = 'TagA' OR TAGS = 'TagB'", { TAGS: "TagB" })).toBe(true);
    expect(matches("TAGS <> 'TagA'", { TAGS: "TagB" })).toBe(true);
    expect(matches("TAGS IS NULL", {})).toBe(true);
    expect(matches("TAGS IS NOT NULL AND TAGS NOT IN ('TagA')", { TAGS: "TagB" })).toBe(true);
  });
});

describe("errors", () => {
  const cases: [string, string, string, number][] = [
    // unexpected end
    ["unexpected end after AND", "a > 5 AND", "unexpected end of expression at position 9", 9],
    ["unexpected end after an operator", "a >", "unexpected end of expression at position 3", 3],
    ["unexpected end inside IS", "a IS", "expected NULL but found end of expression at position 4", 4],
    ["unexpected end inside BETWEEN", "a BETWEEN 1", "expected AND but found end of expression at position 11", 11],
    ["empty expression", "", "empty expression at position 0", 0],
    ["blank expression", "   ", "empty expression at position 3", 3],
    ["only a comment", "-- nothing", "empty expression at position 10", 10],
    // unknown characters
    ["unknown character #", "a # 5", 'unexpected character "#" at position 2', 2],
    ["!= is not SQL92", "a != 5", 'unexpected character "!" at position 2', 2],
    ["&& is not SQL92", "a = 'x' && b = 'y'", 'unexpected character "&" at position 8', 8],
    ["double quotes are not strings", 'a = "x"', 'unexpected character "\\"" at position 4', 4],
    ["non-ASCII identifier", "é = '1'", 'unexpected character "é" at position 0', 0],
    ["astral character", "a = 😀", 'unexpected character "😀" at position 4', 4],
    // strings and comments
    ["unterminated string", "a = 'abc", "unterminated string at position 4", 4],
    ["unterminated string ending in an escaped quote", "a = 'it''", "unterminated string at position 4", 4],
    ["unterminated block comment", "a = 1 /* x", "unterminated comment at position 6", 6],
    // missing operands
    ["missing right operand", "TAGS = AND", 'unexpected token "AND" at position 7', 7],
    ["missing left operand", "> 5", 'unexpected token ">" at position 0', 0],
    ["missing operand between AND and OR", "a = 1 AND OR b = 2", 'unexpected token "OR" at position 10', 10],
    ["missing operator", "a 5", 'unexpected token "5" at position 2', 2],
    ["two values", "a > 5 5", 'unexpected token "5" at position 6', 6],
    // parentheses
    ["unclosed parenthesis", "(a > 5", 'expected ")" but found end of expression at position 6', 6],
    ["unclosed nested parenthesis", "((a > 5)", 'expected ")" but found end of expression at position 8', 8],
    ["extra closing parenthesis", "a > 5)", 'unexpected token ")" at position 5', 5],
    ["empty parentheses", "()", 'unexpected token ")" at position 1', 1],
    // unsupported syntax
    ["LIKE", "a LIKE 'x'", 'unexpected token "LIKE" (LIKE is not supported) at position 2', 2],
    ["lower-case like", "a like 'x%'", 'unexpected token "like" (LIKE is not supported) at position 2', 2],
    ["arithmetic", "a + 1 > 2", 'unexpected token "+" at position 2', 2],
    ["unary minus on a property", "-a > 1", 'unary "-" applies only to a number, not property "a" at position 0', 0],
    // IN lists
    ["IN with numbers", "a IN (1, 2)", 'expected a string literal but found token "1" at position 6', 6],
    ["empty IN list", "a IN ()", 'expected a string literal but found token ")" at position 6', 6],
    ["IN without parentheses", "a IN 'x'", 'expected "(" but found token "\'x\'" at position 5', 5],
    ["IN on a literal", "'x' IN ('x')", "IN needs a property on its left, not a string at position 4", 4],
    // typing checks RocketMQ makes while building the expression
    ["ordering a string literal", "a > 'x'", 'a string cannot be compared with ">" at position 4', 4],
    ["ordering TRUE", "a >= TRUE", 'TRUE cannot be compared with ">=" at position 5', 5],
    ["ordering a condition", "a > 1 > 2", 'a condition cannot be compared with ">" at position 2', 2],
    ["= NULL", "a = NULL", 'NULL cannot be compared with "="; use IS NULL or IS NOT NULL at position 4', 4],
    ["<> NULL", "NULL <> a", 'NULL cannot be compared with "<>"; use IS NULL or IS NOT NULL at position 0', 0],
    ["TRUE = string", "TRUE = 'x'", "TRUE cannot be compared with a string at position 0", 0],
    ["BETWEEN NULL", "a BETWEEN NULL AND 1", "BETWEEN bounds cannot be NULL at position 10", 10],
    ["BETWEEN strings", "a BETWEEN 'a' AND 'z'", 'a string cannot be compared with "BETWEEN" at position 10', 10],
    ["BETWEEN inverted", "a BETWEEN 3 AND 1", "BETWEEN low bound 3 is greater than high bound 1 at position 10", 10],
    ["not a condition", "5", "expected a condition but found a number at position 0", 0],
    ["string as condition", "'x'", "expected a condition but found a string at position 0", 0],
    ["number in AND", "a = 1 AND 5", "expected a condition but found a number at position 10", 10],
    ["NOT of a number", "NOT 5", "expected a condition but found a number at position 4", 4],
    ["NOT before a comparison", "NOT a > 5", 'NOT applies only to the operand before ">"; write NOT (...) around the whole comparison at position 6', 6],
    ["NOT before =", "NOT a = 'x'", 'NOT applies only to the operand before "="; write NOT (...) around the whole comparison at position 6', 6],
    ["NOT before IN", "NOT a IN ('x')", 'NOT applies only to the operand before "IN"; write NOT (...) around the whole comparison at position 6', 6],
    ["reserved word as a property", "in = 'x'", 'unexpected token "in" at position 0', 0],
    // numbers
    ["leading zero", "a = 01", 'invalid number "01" (leading zero) at position 4', 4],
    ["0L", "a = 0L", 'invalid number "0L" at position 4', 4],
    ["integer beyond long", "a > 9223372036854775808", "integer 9223372036854775808 out of range at position 4", 4],
    ["float beyond double", "a > 1e999", "number 1e999 out of range at position 4", 4],
  ];

  it.each(cases)("%s: %j", (_name, expression, message, position) => {
    const e = compileError(expression);
    expect(e.message).toBe(message);
    expect(e.position).toBe(position);
  });

  it("rejects an expression longer than MAX_SQL92_LENGTH at that offset", () => {
    const long = `a = '${"x".repeat(5000)}'`;
    const e = compileError(long);
    expect(e.position).toBe(4096);
    expect(e.message).toBe(`expression too long (${long.length} characters, at most 4096) at position 4096`);
    const fits = `a = '${"x".repeat(MAX_SQL92_LENGTH - 6)}'`;
    expect(fits.length).toBe(MAX_SQL92_LENGTH);
    expect(compileSql92(fits).matches({ a: "x".repeat(MAX_SQL92_LENGTH - 6) })).toBe(true);
  });

  it("rejects parentheses nested deeper than 100 at the first one too many", () => {
    const ok = `${"(".repeat(100)}a = '1'${")".repeat(100)}`;
    expect(compileSql92(ok).matches({ a: "1" })).toBe(true);
    const e = compileError(`${"(".repeat(101)}a = '1'${")".repeat(101)}`);
    expect(e.position).toBe(100);
    expect(e.message).toBe("expression nested too deeply (more than 100 levels) at position 100");
  });

  it("rejects long NOT chains and huge unbalanced input without overflowing the stack", () => {
    // 99 NOTs and one parenthesis are 100 levels.
    expect(compileSql92(`${"NOT ".repeat(99)}(a > 1)`).matches({ a: "0" })).toBe(true);
    expect(compileSql92(`${"NOT ".repeat(100)}c`).matches({ c: "x" })).toBe(false);
    const e = compileError(`${"NOT ".repeat(101)}c`);
    expect(e.position).toBe(400);
    expect(compileError("(".repeat(4000)).position).toBe(100);
    expect(compileError("- ".repeat(1500)).position).toBe(200);
    expect(compileSql92(`a = ${"- ".repeat(100)}1`).matches({ a: "1" })).toBe(true);
  });

  it("handles the longest flat expressions", () => {
    const ors = Array.from({ length: 400 }, (_, i) => `a=${i}`).join(" OR ");
    expect(ors.length).toBeLessThanOrEqual(MAX_SQL92_LENGTH);
    expect(compileSql92(ors).matches({ a: "399" })).toBe(true);
    const chain = `a = 1${" = TRUE".repeat(580)}`;
    expect(chain.length).toBeLessThanOrEqual(MAX_SQL92_LENGTH);
    expect(compileSql92(chain).matches({ a: "1" })).toBe(true);
  });
});
