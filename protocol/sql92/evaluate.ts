/**
 * Evaluation with SQL three-valued logic, as RocketMQ 4.x's filter expressions (taken from
 * ActiveMQ): every condition yields TRUE, FALSE or unknown (null), and a message matches only
 * when the whole expression is TRUE (BooleanExpression.matches: `object == Boolean.TRUE`).
 *
 * Property values are strings; a missing property is NULL. Comparing a string with a number
 * converts the string the way ComparisonExpression.__compare does with
 * CONVERT_STRING_EXPRESSIONS on (SelectorParser always sets it): to a Java long for an integer
 * literal (Long.valueOf), to a Java double for a float literal (Double.valueOf), and to a
 * boolean for TRUE/FALSE (Boolean.valueOf: "true" in any case is true, anything else false).
 * Two strings are ordered (`>`, BETWEEN) only when both read as doubles. Where RocketMQ throws
 * (a string that is not a number), the comparison is unknown here.
 *
 * Deliberate differences from RocketMQ 4.x, all in cases it gets wrong or throws on:
 * - A conversion failure is unknown for that comparison only; RocketMQ throws and the broker
 *   (ExpressionMessageFilter) then drops the message whatever the rest of the expression says.
 * - `=` with a NULL operand is unknown on either side; RocketMQ answers FALSE when only the
 *   right side is NULL and TRUE when both are (so `'x' <> a` matched a missing `a` there).
 * - An integer literal converts the property to a long; RocketMQ narrows literals that fit an
 *   int to Integer and so throws on property values beyond the int range.
 * - `TRUE = a` reads `a` like `a = TRUE`; RocketMQ throws a ClassCastException there.
 */
import type { Sql92Node, Sql92Value } from "./parser.js";

export type Properties = Readonly<Record<string, string>>;
/** TRUE, FALSE or unknown. */
export type Truth = boolean | null;

/** The value of a condition node for one message. */
export function evaluateCondition(node: Sql92Node, properties: Properties): Truth {
  const v = evaluate(node, properties);
  return typeof v === "boolean" ? v : null;
}

function evaluate(node: Sql92Node, props: Properties): Sql92Value {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "property": {
      if (!Object.hasOwn(props, node.name)) return null;
      const v = props[node.name];
      return typeof v === "string" ? v : null;
    }
    case "or": {
      let unknown = false;
      for (const operand of node.operands) {
        const v = evaluate(operand, props);
        if (v === true) return true;
        if (v !== false) unknown = true;
      }
      return unknown ? null : false;
    }
    case "and": {
      let unknown = false;
      for (const operand of node.operands) {
        const v = evaluate(operand, props);
        if (v === false) return false;
        if (v !== true) unknown = true;
      }
      return unknown ? null : true;
    }
    case "not": {
      const v = evaluate(node.operand, props);
      return typeof v === "boolean" ? !v : null;
    }
    case "cast": {
      // UnaryExpression.createBooleanCast: NULL stays unknown, a non-Boolean value is FALSE.
      // Property values are strings, so a bare property is FALSE when present (even "true").
      const v = evaluate(node.operand, props);
      if (v === null) return null;
      return typeof v === "boolean" ? v : false;
    }
    case "isNull": {
      const isNull = evaluate(node.operand, props) === null;
      return node.negated ? !isNull : isNull;
    }
    case "equal": {
      const eq = equals(evaluate(node.left, props), evaluate(node.right, props));
      return eq === null ? null : node.negated ? !eq : eq;
    }
    case "order": {
      const c = compare(evaluate(node.left, props), evaluate(node.right, props));
      if (c === null) return null;
      switch (node.op) {
        case ">":
          return c > 0;
        case ">=":
          return c >= 0;
        case "<":
          return c < 0;
        case "<=":
          return c <= 0;
      }
      return null;
    }
    case "between": {
      // BETWEEN is value >= low AND value <= high; NOT BETWEEN is value < low OR value > high.
      const v = evaluate(node.value, props);
      const lo = compare(v, evaluate(node.low, props));
      const hi = compare(v, evaluate(node.high, props));
      if (!node.negated) {
        if (lo !== null && lo < 0) return false;
        if (hi !== null && hi > 0) return false;
        return lo === null || hi === null ? null : true;
      }
      if (lo !== null && lo < 0) return true;
      if (hi !== null && hi > 0) return true;
      return lo === null || hi === null ? null : false;
    }
    case "in": {
      // UnaryExpression.createInExpression: a missing property is unknown, for IN and NOT IN.
      if (!Object.hasOwn(props, node.name)) return null;
      const v = props[node.name];
      if (typeof v !== "string") return null;
      return node.values.has(v) !== node.negated;
    }
  }
}

/** `=`: TRUE, FALSE, or unknown when an operand is NULL or a string does not convert. */
function equals(l: Sql92Value, r: Sql92Value): Truth {
  if (l === null || r === null) return null;
  if (typeof l === typeof r) {
    if (typeof l === "number") return javaDoubleCompare(l, r as number) === 0;
    return l === r;
  }
  if (typeof l === "boolean" || typeof r === "boolean") {
    const b = (typeof l === "boolean" ? l : r) as boolean;
    const other = typeof l === "boolean" ? r : l;
    // A number never equals a boolean; a string is read with Boolean.valueOf.
    return typeof other === "string" ? javaBooleanValueOf(other) === b : false;
  }
  const c = compare(l, r);
  return c === null ? null : c === 0;
}

/**
 * Orders two values as ComparisonExpression does: numbers numerically (long vs long exactly,
 * otherwise as doubles), a string against a number after converting the string to the
 * number's type, two strings only as doubles. null means unknown.
 */
function compare(l: Sql92Value, r: Sql92Value): number | null {
  if (l === null || r === null) return null;
  if (typeof l === "boolean" || typeof r === "boolean") return null;
  if (typeof l === "string" && typeof r === "string") {
    const a = javaDoubleValueOf(l);
    const b = javaDoubleValueOf(r);
    return a === undefined || b === undefined ? null : javaDoubleCompare(a, b);
  }
  const a = typeof l === "string" ? convertLike(l, r) : l;
  const b = typeof r === "string" ? convertLike(r, l) : r;
  if (a === undefined || b === undefined) return null;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  return javaDoubleCompare(Number(a), Number(b));
}

function convertLike(s: string, target: bigint | number | string): bigint | number | undefined {
  return typeof target === "bigint" ? javaLongValueOf(s) : javaDoubleValueOf(s);
}

const JAVA_LONG_MIN = -9223372036854775808n;
const JAVA_LONG_MAX = 9223372036854775807n;
const LONG_PATTERN = /^[+-]?[0-9]+$/;

/** Long.valueOf: optional sign and decimal digits, within the long range; else undefined. */
export function javaLongValueOf(s: string): bigint | undefined {
  if (!LONG_PATTERN.test(s)) return undefined;
  const v = BigInt(s);
  return v < JAVA_LONG_MIN || v > JAVA_LONG_MAX ? undefined : v;
}

const DOUBLE_PATTERN = /^[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)$/;

/**
 * Double.valueOf for decimal text: surrounding whitespace (chars <= U+0020) is trimmed, and an
 * optional sign, NaN, Infinity, exponent and f/F/d/D suffix are accepted. Hexadecimal floating
 * literals (`0x1p3`) are not. Returns undefined where Java throws NumberFormatException.
 */
export function javaDoubleValueOf(s: string): number | undefined {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  const t = s.slice(start, end);
  if (!DOUBLE_PATTERN.test(t)) return undefined;
  const last = t[t.length - 1];
  const body = last === "f" || last === "F" || last === "d" || last === "D" ? t.slice(0, -1) : t;
  return Number(body);
}

/** Boolean.valueOf(String): true only for "true", ignoring case. */
export function javaBooleanValueOf(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === "true";
}

/** Double.compareTo: numeric order, but -0.0 < 0.0 and NaN equals itself and is above everything. */
export function javaDoubleCompare(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
  if (a === 0 && b === 0) {
    const aNeg = Object.is(a, -0);
    const bNeg = Object.is(b, -0);
    return aNeg === bNeg ? 0 : aNeg ? -1 : 1;
  }
  return 0;
}
