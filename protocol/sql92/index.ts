/**
 * SQL92 message filters, as RocketMQ 4.x's `MessageSelector.bySql` (filter module, a trimmed
 * ActiveMQ selector language): comparisons, [NOT] BETWEEN, [NOT] IN, IS [NOT] NULL, AND, OR,
 * NOT and parentheses over message properties (the tag is the TAGS property). No LIKE, no
 * arithmetic. Pure TypeScript: runs in Node, browsers and Workers.
 *
 *   const f = compileSql92("TAGS IN ('TagA','TagB') AND a BETWEEN 0 AND 3");
 *   f.matches({ TAGS: "TagA", a: "2" }); // true
 */
import { Sql92Error } from "./error.js";
import { evaluateCondition } from "./evaluate.js";
import { MAX_SQL92_LENGTH, parseSql92 } from "./parser.js";

export { Sql92Error, MAX_SQL92_LENGTH };

export interface CompiledSql92 {
  readonly expression: string;
  /** True only when the expression is TRUE for these properties (FALSE and unknown do not match). */
  matches(properties: Readonly<Record<string, string>>): boolean;
}

/** Compiles an expression once for many messages; throws Sql92Error (with its position) if it is invalid. */
export function compileSql92(expression: string): CompiledSql92 {
  const root = parseSql92(expression);
  return {
    expression,
    matches: (properties) => evaluateCondition(root, properties) === true,
  };
}
