/**
 * Server-side message filters: tag expressions and SQL92 over properties, behind one
 * interface so the pull path does not care which a consumer subscribed with.
 */
import { MQError } from "./errors.js";
import type { ExpressionType } from "./consumer.js";
import type { StoredMessage } from "./message.js";
import { compileSql92, Sql92Error } from "./sql92/index.js";
import { matchesTag, parseTagExpression } from "./tag-filter.js";

export interface MessageFilter {
  /** True when the filter lets everything through (no work per message). */
  readonly all: boolean;
  matches(message: StoredMessage): boolean;
}

const MATCH_ALL: MessageFilter = { all: true, matches: () => true };

/** Builds a filter; a bad SQL92 expression is INVALID_FILTER_EXPRESSION with its position. */
export function buildFilter(expressionType: ExpressionType | undefined, expression: string | undefined): MessageFilter {
  if (expressionType === "SQL92") {
    let compiled;
    try {
      compiled = compileSql92(expression ?? "");
    } catch (e) {
      if (e instanceof Sql92Error) {
        throw new MQError("INVALID_FILTER_EXPRESSION", `SQL92 expression error: ${e.message}`);
      }
      throw e;
    }
    return {
      all: false,
      // TAGS and KEYS are properties in RocketMQ, so SQL92 can name them.
      matches: (m) => compiled.matches({ ...m.properties, ...(m.tags ? { TAGS: m.tags } : {}), ...(m.keys.length ? { KEYS: m.keys.join(" ") } : {}) }),
    };
  }
  const tags = parseTagExpression(expression);
  if (tags.all) return MATCH_ALL;
  return { all: false, matches: (m) => matchesTag(tags, m.tags) };
}
