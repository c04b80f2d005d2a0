/** Subscription expressions, as RocketMQ's MessageSelector: tags by default, SQL92 on request. */
import type { ExpressionType, Subscription } from "../protocol/consumer.js";
import { buildFilter } from "../protocol/message-filter.js";
import { checkTopicName } from "../protocol/names.js";

export interface MessageSelector {
  readonly expressionType: ExpressionType;
  readonly expression: string;
}

export const MessageSelector = {
  bySql(expression: string): MessageSelector {
    return { expressionType: "SQL92", expression };
  },
  byTag(expression: string): MessageSelector {
    return { expressionType: "TAG", expression };
  },
};

/** A subscription from a topic and a tag string or selector; a bad SQL92 expression throws here. */
export function toSubscription(topic: string, expression: string | MessageSelector = "*"): Subscription {
  checkTopicName(topic);
  const selector = typeof expression === "string" ? MessageSelector.byTag(expression) : expression;
  buildFilter(selector.expressionType, selector.expression);
  return { topic, expressionType: selector.expressionType, expression: selector.expression };
}
