/**
 * The retry ladder, RocketMQ's rule for a message a consumer failed (CONSUMER_SEND_MSG_BACK):
 * it comes back through `%RETRY%<group>` at delay level 3 + reconsumeTimes (10 s, 30 s, 1 m,
 * ... 2 h with the default levels), until it has been redelivered maxReconsumeTimes times;
 * then it goes to `%DLQ%<group>`. A pure function, so the broker's send-back and the client's
 * orderly consumption take the same decision.
 */
import { DEFAULT_DELAY_LEVELS, parseDelayLevels } from "./delay-levels.js";

/** Redeliveries before the dead-letter queue when the consumer names none (RocketMQ's retryMaxTimes). */
export const DEFAULT_MAX_RECONSUME_TIMES = 16;

/** Delay level of the first retry; each further retry waits one level more. */
export const FIRST_RETRY_DELAY_LEVEL = 3;

/** Number of levels in RocketMQ's default table (1s ... 2h): 18. */
export const DEFAULT_MAX_DELAY_LEVEL = parseDelayLevels(DEFAULT_DELAY_LEVELS).length;

export interface RetryLadderInput {
  /** Times the message was already redelivered (0 on its first delivery). */
  reconsumeTimes: number;
  /** Redeliveries allowed before the dead-letter queue; default DEFAULT_MAX_RECONSUME_TIMES (16). */
  maxReconsumeTimes?: number | undefined;
  /**
   * The consumer's choice (ConsumeConcurrentlyContext.delayLevelWhenNextConsume): 0 = the
   * ladder, 3 + reconsumeTimes; above 0 = this level; below 0 = straight to the DLQ. Default 0.
   */
  delayLevel?: number | undefined;
  /** Highest delay level, the size of the level table; a higher level is clamped to it. Default 18. */
  maxDelayLevel?: number | undefined;
}

/** Where a failed message goes next. */
export type RetryStep = { destination: "RETRY"; delayLevel: number } | { destination: "DLQ" };

export function nextRetryStep(input: RetryLadderInput): RetryStep {
  const maxReconsumeTimes = input.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES;
  const requested = input.delayLevel ?? 0;
  if (requested < 0 || input.reconsumeTimes >= maxReconsumeTimes) return { destination: "DLQ" };
  const level = requested > 0 ? requested : FIRST_RETRY_DELAY_LEVEL + input.reconsumeTimes;
  return { destination: "RETRY", delayLevel: Math.min(level, input.maxDelayLevel ?? DEFAULT_MAX_DELAY_LEVEL) };
}
