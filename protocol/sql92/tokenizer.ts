/**
 * Lexer for RocketMQ 4.x SQL92 filter expressions (filter/…/parser/SelectorParser.jj):
 * - whitespace ` \t\n\r\f`; `-- line` and `/* block *\/` comments are skipped;
 * - reserved words, case-insensitive: NOT AND OR BETWEEN IN TRUE FALSE NULL IS;
 * - integers `0 | [1-9][0-9]*[lL]?`, floats `1.5 | 1. | .5 | 1e5 | 1.5E-3`;
 * - strings `'...'` where `''` is one quote;
 * - identifiers `[A-Za-z_$][A-Za-z0-9_$.]*` (message property names, case-sensitive);
 * - punctuation `( ) , = <> < <= > >= + -`.
 */
import { Sql92Error } from "./error.js";

export const KEYWORDS = ["NOT", "AND", "OR", "BETWEEN", "IN", "TRUE", "FALSE", "NULL", "IS"] as const;
export type Keyword = (typeof KEYWORDS)[number];

export type Punct = "(" | ")" | "," | "=" | "<>" | "<" | "<=" | ">" | ">=" | "+" | "-";

export type Token =
  | { readonly type: "keyword"; readonly keyword: Keyword; readonly text: string; readonly start: number }
  | { readonly type: "ident"; readonly text: string; readonly start: number }
  | { readonly type: "string"; readonly value: string; readonly text: string; readonly start: number }
  /** An integer literal; `text` keeps a trailing L, `digits` does not. */
  | { readonly type: "integer"; readonly digits: string; readonly text: string; readonly start: number }
  | { readonly type: "float"; readonly text: string; readonly start: number }
  | { readonly type: "punct"; readonly punct: Punct; readonly text: string; readonly start: number }
  | { readonly type: "eof"; readonly text: ""; readonly start: number };

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
const isIdentStart = (c: string | undefined): boolean => c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c === "$");
const isIdentPart = (c: string | undefined): boolean => isIdentStart(c) || isDigit(c) || c === ".";
const isSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f";

/** Length of `E[+-]?[0-9]+` at `i`, or 0 when there is no complete exponent there. */
function exponentLength(s: string, i: number): number {
  const e = s[i];
  if (e !== "e" && e !== "E") return 0;
  let j = i + 1;
  if (s[j] === "+" || s[j] === "-") j++;
  if (!isDigit(s[j])) return 0;
  while (isDigit(s[j])) j++;
  return j - i;
}

function digitsEnd(s: string, i: number): number {
  while (isDigit(s[i])) i++;
  return i;
}

/** Splits `expression` into tokens, ending with one `eof` token. */
export function tokenize(expression: string): Token[] {
  const s = expression;
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "-" && s[i + 1] === "-") {
      while (i < s.length && s[i] !== "\n" && s[i] !== "\r") i++;
      continue;
    }
    if (c === "/" && s[i + 1] === "*") {
      const end = s.indexOf("*/", i + 2);
      if (end < 0) throw new Sql92Error("unterminated comment", start);
      i = end + 2;
      continue;
    }
    if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= s.length) throw new Sql92Error("unterminated string", start);
        const d = s[i] as string;
        if (d === "'") {
          if (s[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ type: "string", value, text: s.slice(start, i), start });
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(s[i + 1]))) {
      tokens.push(readNumber(s, start));
      i = start + (tokens[tokens.length - 1] as Token).text.length;
      continue;
    }
    if (isIdentStart(c)) {
      while (isIdentPart(s[i])) i++;
      const text = s.slice(start, i);
      const upper = text.toUpperCase();
      if (KEYWORD_SET.has(upper)) tokens.push({ type: "keyword", keyword: upper as Keyword, text, start });
      else tokens.push({ type: "ident", text, start });
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === "<>" || two === "<=" || two === ">=") {
      tokens.push({ type: "punct", punct: two, text: two, start });
      i += 2;
      continue;
    }
    if (c === "(" || c === ")" || c === "," || c === "=" || c === "<" || c === ">" || c === "+" || c === "-") {
      tokens.push({ type: "punct", punct: c, text: c, start });
      i++;
      continue;
    }
    const cp = s.codePointAt(i) ?? 0;
    throw new Sql92Error(`unexpected character ${JSON.stringify(String.fromCodePoint(cp))}`, start);
  }
  tokens.push({ type: "eof", text: "", start: s.length });
  return tokens;
}

/** Longest match among the integer and float literal forms, as JavaCC's lexer picks it. */
function readNumber(s: string, start: number): Token {
  let i = start;
  if (s[i] === ".") {
    i = digitsEnd(s, i + 1);
    i += exponentLength(s, i);
    return { type: "float", text: s.slice(start, i), start };
  }
  i = digitsEnd(s, i);
  if (s[i] === ".") {
    i = digitsEnd(s, i + 1);
    i += exponentLength(s, i);
    return { type: "float", text: s.slice(start, i), start };
  }
  const exp = exponentLength(s, i);
  if (exp > 0) return { type: "float", text: s.slice(start, i + exp), start };
  const digits = s.slice(start, i);
  const suffixed = s[i] === "l" || s[i] === "L";
  // RocketMQ's DECIMAL_LITERAL is `0 | [1-9][0-9]*[lL]?`: no leading zeros (no octal), no `0L`.
  if (digits.length > 1 && digits.startsWith("0")) {
    throw new Sql92Error(`invalid number "${digits}" (leading zero)`, start);
  }
  if (suffixed && digits === "0") throw new Sql92Error(`invalid number "${s.slice(start, i + 1)}"`, start);
  return { type: "integer", digits, text: s.slice(start, suffixed ? i + 1 : i), start };
}
