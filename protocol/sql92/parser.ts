/**
 * Recursive-descent parser for RocketMQ 4.x SQL92 filter expressions, producing a checked AST.
 *
 * Precedence follows RocketMQ's SelectorParser.jj (taken from ActiveMQ), loosest first:
 *   OR  <  AND  <  = <> IS [NOT] NULL  <  > >= < <= [NOT] BETWEEN [NOT] IN  <  NOT + -  <  primary
 * so NOT binds tighter than AND, and AND tighter than OR. As in RocketMQ, NOT is a prefix on a
 * single operand: `NOT a > 5` would mean `(NOT a) > 5`, which RocketMQ rejects or never
 * matches, so it is an error here; write `NOT (a > 5)`.
 *
 * The checks RocketMQ's ComparisonExpression.create* and SelectorParser.asBooleanExpression run
 * while building the tree are applied here too, so every expression they reject is a
 * Sql92Error: only numbers and properties can be ordered (`>`, BETWEEN); NULL cannot be an
 * operand of `=`/`<>`; IN needs a property on the left and string literals in the list; BETWEEN
 * bounds cannot be NULL and the low bound cannot exceed the high one; AND/OR/NOT operands and
 * the whole expression must be conditions (a bare property is allowed and cast, see evaluate.ts).
 */
import { Sql92Error } from "./error.js";
import { tokenize, type Keyword, type Punct, type Token } from "./tokenizer.js";

/** Longer expressions are rejected before they are tokenized. */
export const MAX_SQL92_LENGTH = 4096;
/** Most nested parentheses and prefix operators (NOT, +, -) an expression may have. */
export const MAX_SQL92_DEPTH = 100;

/** A literal or property value: strings, integers (Java long), floats (Java double), booleans, NULL. */
export type Sql92Value = string | bigint | number | boolean | null;

export type OrderingOp = ">" | ">=" | "<" | "<=";

export type Sql92Node =
  | { readonly kind: "literal"; readonly value: Sql92Value; readonly position: number }
  | { readonly kind: "property"; readonly name: string; readonly position: number }
  | { readonly kind: "or"; readonly operands: readonly Sql92Node[]; readonly position: number }
  | { readonly kind: "and"; readonly operands: readonly Sql92Node[]; readonly position: number }
  | { readonly kind: "not"; readonly operand: Sql92Node; readonly position: number }
  /** A property used as a condition (RocketMQ UnaryExpression.createBooleanCast). */
  | { readonly kind: "cast"; readonly operand: Sql92Node; readonly position: number }
  | { readonly kind: "equal"; readonly negated: boolean; readonly left: Sql92Node; readonly right: Sql92Node; readonly position: number }
  | { readonly kind: "order"; readonly op: OrderingOp; readonly left: Sql92Node; readonly right: Sql92Node; readonly position: number }
  | {
      readonly kind: "between";
      readonly negated: boolean;
      readonly value: Sql92Node;
      readonly low: Sql92Node;
      readonly high: Sql92Node;
      readonly position: number;
    }
  | { readonly kind: "in"; readonly negated: boolean; readonly name: string; readonly values: ReadonlySet<string>; readonly position: number }
  | { readonly kind: "isNull"; readonly negated: boolean; readonly operand: Sql92Node; readonly position: number };

const JAVA_LONG_MAX = 9223372036854775807n;
const UNSUPPORTED_WORDS: ReadonlySet<string> = new Set(["LIKE", "ESCAPE", "CONTAINS", "STARTSWITH", "ENDSWITH"]);

/** Parses and checks `expression`; throws Sql92Error with the offending position. */
export function parseSql92(expression: string): Sql92Node {
  if (expression.length > MAX_SQL92_LENGTH) {
    throw new Sql92Error(`expression too long (${expression.length} characters, at most ${MAX_SQL92_LENGTH})`, MAX_SQL92_LENGTH);
  }
  return new Parser(tokenize(expression)).parseExpression();
}

/** The result of a prefix-operator chain, remembering whether it is an unparenthesized NOT. */
interface Unary {
  readonly node: Sql92Node;
  readonly bareNot: boolean;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseExpression(): Sql92Node {
    const first = this.peek();
    if (first.type === "eof") throw new Sql92Error("empty expression", first.start);
    const node = this.parseOr();
    const next = this.peek();
    if (next.type !== "eof") throw this.unexpected(next);
    return asCondition(node);
  }

  // ---- token helpers --------------------------------------------------------------------

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== "eof") this.index++;
    return t;
  }

  private isKeyword(t: Token, keyword: Keyword): boolean {
    return t.type === "keyword" && t.keyword === keyword;
  }

  private isPunct(t: Token, punct: Punct): boolean {
    return t.type === "punct" && t.punct === punct;
  }

  private acceptKeyword(keyword: Keyword): Token | undefined {
    const t = this.peek();
    if (!this.isKeyword(t, keyword)) return undefined;
    this.index++;
    return t;
  }

  private expectKeyword(keyword: Keyword): Token {
    const t = this.peek();
    if (!this.isKeyword(t, keyword)) throw this.unexpected(t, keyword);
    this.index++;
    return t;
  }

  private expectPunct(punct: Punct): Token {
    const t = this.peek();
    if (!this.isPunct(t, punct)) throw this.unexpected(t, `"${punct}"`);
    this.index++;
    return t;
  }

  private unexpected(t: Token, expected?: string): Sql92Error {
    const found = describe(t);
    if (expected !== undefined) return new Sql92Error(`expected ${expected} but found ${found}`, t.start);
    if (t.type === "ident" && UNSUPPORTED_WORDS.has(t.text.toUpperCase())) {
      return new Sql92Error(`unexpected token ${JSON.stringify(t.text)} (${t.text.toUpperCase()} is not supported)`, t.start);
    }
    return new Sql92Error(`unexpected ${found}`, t.start);
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_SQL92_DEPTH) {
      throw new Sql92Error(`expression nested too deeply (more than ${MAX_SQL92_DEPTH} levels)`, t.start);
    }
  }

  private leave(): void {
    this.depth--;
  }

  // ---- grammar ---------------------------------------------------------------------------

  private parseOr(): Sql92Node {
    const first = this.parseAnd();
    if (!this.isKeyword(this.peek(), "OR")) return first;
    const operands = [asCondition(first)];
    while (this.acceptKeyword("OR")) operands.push(asCondition(this.parseAnd()));
    return { kind: "or", operands, position: first.position };
  }

  private parseAnd(): Sql92Node {
    const first = this.parseEquality();
    if (!this.isKeyword(this.peek(), "AND")) return first;
    const operands = [asCondition(first)];
    while (this.acceptKeyword("AND")) operands.push(asCondition(this.parseEquality()));
    return { kind: "and", operands, position: first.position };
  }

  private parseEquality(): Sql92Node {
    const first = this.parseComparison();
    let left = first.node;
    let bareNot = first.bareNot;
    for (;;) {
      const t = this.peek();
      if (this.isPunct(t, "=") || this.isPunct(t, "<>")) {
        rejectBareNot(bareNot, t);
        this.index++;
        const right = this.parseComparison().node;
        checkEqualOperands(left, right, t);
        left = { kind: "equal", negated: t.text === "<>", left, right, position: t.start };
      } else if (this.isKeyword(t, "IS")) {
        rejectBareNot(bareNot, t);
        this.index++;
        const negated = this.acceptKeyword("NOT") !== undefined;
        this.expectKeyword("NULL");
        left = { kind: "isNull", negated, operand: left, position: t.start };
      } else {
        return left;
      }
      bareNot = false;
    }
  }

  private parseComparison(): Unary {
    const first = this.parseUnary();
    let left = first.node;
    let bareNot = first.bareNot;
    for (;;) {
      const t = this.peek();
      if (t.type === "punct" && (t.punct === ">" || t.punct === ">=" || t.punct === "<" || t.punct === "<=")) {
        rejectBareNot(bareNot, t);
        this.index++;
        const right = this.parseUnary().node;
        checkOrderOperand(left, t);
        checkOrderOperand(right, t);
        left = { kind: "order", op: t.punct, left, right, position: t.start };
      } else if (this.isKeyword(t, "BETWEEN") || (this.isKeyword(t, "NOT") && this.isKeyword(this.lookahead(1), "BETWEEN"))) {
        rejectBareNot(bareNot, t);
        const negated = this.acceptKeyword("NOT") !== undefined;
        const between = this.expectKeyword("BETWEEN");
        const low = this.parseUnary().node;
        this.expectKeyword("AND");
        const high = this.parseUnary().node;
        checkBetween(left, low, high, between);
        left = { kind: "between", negated, value: left, low, high, position: t.start };
      } else if (this.isKeyword(t, "IN") || (this.isKeyword(t, "NOT") && this.isKeyword(this.lookahead(1), "IN"))) {
        rejectBareNot(bareNot, t);
        const negated = this.acceptKeyword("NOT") !== undefined;
        const inToken = this.expectKeyword("IN");
        if (left.kind !== "property") {
          throw new Sql92Error(`IN needs a property on its left, not ${describeNode(left)}`, inToken.start);
        }
        this.expectPunct("(");
        const values = new Set<string>([this.expectString()]);
        while (this.isPunct(this.peek(), ",")) {
          this.index++;
          values.add(this.expectString());
        }
        this.expectPunct(")");
        left = { kind: "in", negated, name: left.name, values, position: t.start };
      } else {
        return { node: left, bareNot };
      }
      bareNot = false;
    }
  }

  private lookahead(n: number): Token {
    return this.tokens[Math.min(this.index + n, this.tokens.length - 1)] as Token;
  }

  private expectString(): string {
    const t = this.peek();
    if (t.type !== "string") throw this.unexpected(t, "a string literal");
    this.index++;
    return t.value;
  }

  private parseUnary(): Unary {
    const t = this.peek();
    if (this.isPunct(t, "+") || this.isPunct(t, "-") || this.isKeyword(t, "NOT")) {
      this.enter(t);
      this.index++;
      const inner = this.parseUnary();
      this.leave();
      if (t.type === "keyword") {
        return { node: { kind: "not", operand: asCondition(inner.node), position: t.start }, bareNot: true };
      }
      if (t.text === "+") return inner; // identity, as in RocketMQ
      const operand = inner.node;
      if (operand.kind === "literal" && (typeof operand.value === "bigint" || typeof operand.value === "number")) {
        return { node: { kind: "literal", value: -operand.value, position: t.start }, bareNot: false };
      }
      throw new Sql92Error(`unary "-" applies only to a number, not ${describeNode(operand)}`, t.start);
    }
    return { node: this.parsePrimary(), bareNot: false };
  }

  private parsePrimary(): Sql92Node {
    const t = this.next();
    switch (t.type) {
      case "string":
        return { kind: "literal", value: t.value, position: t.start };
      case "integer": {
        const value = BigInt(t.digits);
        if (value > JAVA_LONG_MAX) throw new Sql92Error(`integer ${t.text} out of range`, t.start);
        return { kind: "literal", value, position: t.start };
      }
      case "float": {
        const value = Number(t.text);
        if (!Number.isFinite(value)) throw new Sql92Error(`number ${t.text} out of range`, t.start);
        return { kind: "literal", value, position: t.start };
      }
      case "ident":
        return { kind: "property", name: t.text, position: t.start };
      case "keyword":
        if (t.keyword === "TRUE") return { kind: "literal", value: true, position: t.start };
        if (t.keyword === "FALSE") return { kind: "literal", value: false, position: t.start };
        if (t.keyword === "NULL") return { kind: "literal", value: null, position: t.start };
        break;
      case "punct":
        if (t.punct === "(") {
          this.enter(t);
          const inner = this.parseOr();
          this.expectPunct(")");
          this.leave();
          return inner;
        }
        break;
      case "eof":
        break;
    }
    throw this.unexpected(t);
  }
}

function describe(t: Token): string {
  if (t.type === "eof") return "end of expression";
  const text = t.text.length > 40 ? `${t.text.slice(0, 37)}...` : t.text;
  return `token ${JSON.stringify(text)}`;
}

function describeNode(node: Sql92Node): string {
  switch (node.kind) {
    case "literal":
      if (node.value === null) return "NULL";
      if (typeof node.value === "boolean") return node.value ? "TRUE" : "FALSE";
      if (typeof node.value === "string") return "a string";
      return "a number";
    case "property":
      return `property ${JSON.stringify(node.name)}`;
    default:
      return "a condition";
  }
}

/** True for nodes that evaluate to TRUE, FALSE or unknown (RocketMQ's BooleanExpression). */
function isCondition(node: Sql92Node): boolean {
  if (node.kind === "literal") return node.value === null || typeof node.value === "boolean";
  return node.kind !== "property";
}

/** SelectorParser.asBooleanExpression: conditions pass, a property is cast, anything else fails. */
function asCondition(node: Sql92Node): Sql92Node {
  if (node.kind === "property") return { kind: "cast", operand: node, position: node.position };
  if (isCondition(node)) return node;
  throw new Sql92Error(`expected a condition but found ${describeNode(node)}`, node.position);
}

function rejectBareNot(bareNot: boolean, op: Token): void {
  if (bareNot) {
    throw new Sql92Error(`NOT applies only to the operand before ${JSON.stringify(op.text)}; write NOT (...) around the whole comparison`, op.start);
  }
}

/** ComparisonExpression.checkLessThanOperand: literals must be numbers; no conditions. */
function checkOrderOperand(node: Sql92Node, op: Token): void {
  if (node.kind === "property") return;
  if (node.kind === "literal" && (typeof node.value === "bigint" || typeof node.value === "number")) return;
  throw new Sql92Error(`${describeNode(node)} cannot be compared with ${JSON.stringify(op.text)}`, node.position);
}

/** ComparisonExpression.checkEqualOperand and checkEqualOperandCompatability. */
function checkEqualOperands(left: Sql92Node, right: Sql92Node, op: Token): void {
  for (const node of [left, right]) {
    if (node.kind === "literal" && node.value === null) {
      throw new Sql92Error(`NULL cannot be compared with ${JSON.stringify(op.text)}; use IS NULL or IS NOT NULL`, node.position);
    }
  }
  if (left.kind === "literal" && right.kind === "literal") {
    if ((typeof left.value === "boolean") !== (typeof right.value === "boolean")) {
      throw new Sql92Error(`${describeNode(left)} cannot be compared with ${describeNode(right)}`, left.position);
    }
  }
}

/** ComparisonExpression.createBetween: no NULL bounds, numeric operands, low <= high. */
function checkBetween(value: Sql92Node, low: Sql92Node, high: Sql92Node, between: Token): void {
  for (const node of [low, high]) {
    if (node.kind === "literal" && node.value === null) {
      throw new Sql92Error("BETWEEN bounds cannot be NULL", node.position);
    }
  }
  for (const node of [value, low, high]) checkOrderOperand(node, between);
  if (low.kind === "literal" && high.kind === "literal") {
    const lo = low.value as bigint | number;
    const hi = high.value as bigint | number;
    const inverted = typeof lo === "bigint" && typeof hi === "bigint" ? lo > hi : Number(lo) > Number(hi);
    if (inverted) {
      throw new Sql92Error(`BETWEEN low bound ${String(lo)} is greater than high bound ${String(hi)}`, low.position);
    }
  }
}
