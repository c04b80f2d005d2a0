import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_DELAY_LEVEL, DEFAULT_MAX_RECONSUME_TIMES, FIRST_RETRY_DELAY_LEVEL, nextRetryStep } from "./retry-ladder.js";

describe("nextRetryStep", () => {
  it("has RocketMQ's defaults: 16 redeliveries, first retry at level 3, 18 levels", () => {
    expect(DEFAULT_MAX_RECONSUME_TIMES).toBe(16);
    expect(FIRST_RETRY_DELAY_LEVEL).toBe(3);
    expect(DEFAULT_MAX_DELAY_LEVEL).toBe(18);
  });

  it("climbs the default ladder 0→3 ... 15→18, and the 16th failure goes to the DLQ", () => {
    const steps = Array.from({ length: 18 }, (_, reconsumeTimes) => nextRetryStep({ reconsumeTimes }));
    expect(steps).toEqual([
      ...Array.from({ length: 16 }, (_, i) => ({ destination: "RETRY", delayLevel: 3 + i })),
      { destination: "DLQ" },
      { destination: "DLQ" },
    ]);
  });

  it("sends to the DLQ once reconsumeTimes reaches maxReconsumeTimes, not before", () => {
    expect(nextRetryStep({ reconsumeTimes: 1, maxReconsumeTimes: 2 })).toEqual({ destination: "RETRY", delayLevel: 4 });
    expect(nextRetryStep({ reconsumeTimes: 2, maxReconsumeTimes: 2 })).toEqual({ destination: "DLQ" });
    expect(nextRetryStep({ reconsumeTimes: 3, maxReconsumeTimes: 2 })).toEqual({ destination: "DLQ" });
  });

  it("maxReconsumeTimes 0 dead-letters the first failure", () => {
    expect(nextRetryStep({ reconsumeTimes: 0, maxReconsumeTimes: 0 })).toEqual({ destination: "DLQ" });
  });

  it("an explicit undefined maxReconsumeTimes means the default", () => {
    expect(nextRetryStep({ reconsumeTimes: 15, maxReconsumeTimes: undefined })).toEqual({ destination: "RETRY", delayLevel: 18 });
    expect(nextRetryStep({ reconsumeTimes: 16, maxReconsumeTimes: undefined })).toEqual({ destination: "DLQ" });
  });

  it("a delay level below 0 goes straight to the DLQ, even on the first failure", () => {
    expect(nextRetryStep({ reconsumeTimes: 0, delayLevel: -1 })).toEqual({ destination: "DLQ" });
    expect(nextRetryStep({ reconsumeTimes: 0, delayLevel: -1, maxReconsumeTimes: 1000 })).toEqual({ destination: "DLQ" });
  });

  it("delay level 0 (or none) lets the ladder choose 3 + reconsumeTimes", () => {
    expect(nextRetryStep({ reconsumeTimes: 4, delayLevel: 0 })).toEqual({ destination: "RETRY", delayLevel: 7 });
    expect(nextRetryStep({ reconsumeTimes: 4, delayLevel: undefined })).toEqual({ destination: "RETRY", delayLevel: 7 });
  });

  it("a delay level above 0 is used as given, whatever reconsumeTimes is", () => {
    expect(nextRetryStep({ reconsumeTimes: 0, delayLevel: 1 })).toEqual({ destination: "RETRY", delayLevel: 1 });
    expect(nextRetryStep({ reconsumeTimes: 9, delayLevel: 2 })).toEqual({ destination: "RETRY", delayLevel: 2 });
  });

  it("a given delay level does not save a message past maxReconsumeTimes from the DLQ", () => {
    expect(nextRetryStep({ reconsumeTimes: 16, delayLevel: 1 })).toEqual({ destination: "DLQ" });
  });

  it("clamps the level to the highest level of the table", () => {
    expect(nextRetryStep({ reconsumeTimes: 20, maxReconsumeTimes: 30 })).toEqual({ destination: "RETRY", delayLevel: 18 });
    expect(nextRetryStep({ reconsumeTimes: 0, delayLevel: 1000 })).toEqual({ destination: "RETRY", delayLevel: 18 });
    expect(nextRetryStep({ reconsumeTimes: 1, maxDelayLevel: 4 })).toEqual({ destination: "RETRY", delayLevel: 4 });
    expect(nextRetryStep({ reconsumeTimes: 5, maxDelayLevel: 4 })).toEqual({ destination: "RETRY", delayLevel: 4 });
    expect(nextRetryStep({ reconsumeTimes: 0, delayLevel: 2, maxDelayLevel: 4 })).toEqual({ destination: "RETRY", delayLevel: 2 });
  });

  it("unlimited redeliveries (orderly consumption's default) never reach the DLQ by count", () => {
    expect(nextRetryStep({ reconsumeTimes: 1_000_000, maxReconsumeTimes: Number.MAX_SAFE_INTEGER })).toEqual({
      destination: "RETRY",
      delayLevel: 18,
    });
  });
});
