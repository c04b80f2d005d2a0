import { describe, expect, it } from "vitest";
import { Limits } from "./limits.js";
import { HeartbeatSchema } from "./schemas.js";

const heartbeat = (extra: Record<string, unknown>) => ({
  clientId: "c1",
  messageModel: "CLUSTERING",
  subscriptions: [{ topic: "T", expressionType: "TAG", expression: "*" }],
  heartbeatIntervalMs: 1000,
  sessionTimeoutMs: 3000,
  ...extra,
});
const mq = (over: Record<string, unknown> = {}) => ({ topic: "T", brokerName: "broker-a", queueId: 0, ...over });
const ok = (extra: Record<string, unknown>) => HeartbeatSchema.safeParse(heartbeat(extra)).success;

describe("HeartbeatSchema", () => {
  it("item 10: caps the names, queue ids and counts of heldQueues and configuredQueues", () => {
    for (const field of ["heldQueues", "configuredQueues"]) {
      // The longest legal names: a retry topic of the longest group, the longest broker name.
      const longest = mq({ topic: `%RETRY%${"g".repeat(Limits.maxGroupLength)}`, brokerName: "b".repeat(Limits.maxBrokerNameLength), queueId: 1023 });
      expect(ok({ [field]: [longest] }), field).toBe(true);
      expect(ok({ [field]: [mq({ topic: `%RETRY%${"g".repeat(Limits.maxGroupLength + 1)}` })] }), field).toBe(false);
      expect(ok({ [field]: [mq({ topic: "x".repeat(10 * 1024 * 1024) })] }), field).toBe(false);
      expect(ok({ [field]: [mq({ brokerName: "b".repeat(Limits.maxBrokerNameLength + 1) })] }), field).toBe(false);
      expect(ok({ [field]: [mq({ topic: "" })] }), field).toBe(false);
      expect(ok({ [field]: [mq({ brokerName: "" })] }), field).toBe(false);
      expect(ok({ [field]: [mq({ topic: "a/b" })] }), field).toBe(false);
      expect(ok({ [field]: [mq({ brokerName: "broker%a" })] }), field).toBe(false);
      expect(ok({ [field]: [mq({ queueId: Limits.maxQueueNums })] }), field).toBe(false);
    }
    const many = (n: number) => Array.from({ length: n }, (_, i) => mq({ queueId: i % Limits.maxQueueNums }));
    expect(ok({ heldQueues: many(Limits.maxHeldQueues) })).toBe(true);
    expect(ok({ heldQueues: many(Limits.maxHeldQueues + 1) })).toBe(false);
    expect(ok({ configuredQueues: many(Limits.maxQueueNums) })).toBe(true);
    expect(ok({ configuredQueues: many(Limits.maxQueueNums + 1) })).toBe(false);
  });
});
