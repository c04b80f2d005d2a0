import { describe, expect, it } from "vitest";
import { suggestBrokerId } from "./slave-read.js";

const on = { slaveReadEnable: true, slaveReadBehindMessages: 100, slavesPerBroker: 2 };

describe("suggestBrokerId", () => {
  it("sends a consumer more than the threshold behind to a slave, and keeps it on the slave serving it", () => {
    expect(suggestBrokerId(on, 0, { maxOffset: 1000, nextBeginOffset: 899, slaveHolds: 1000 })).toBe(1);
    expect(suggestBrokerId(on, 2, { maxOffset: 1000, nextBeginOffset: 899 })).toBe(2);
  });
  it("sends it back to the master once within the threshold", () => {
    expect(suggestBrokerId(on, 1, { maxOffset: 1000, nextBeginOffset: 900 })).toBe(0);
    expect(suggestBrokerId(on, 0, { maxOffset: 1000, nextBeginOffset: 1000 })).toBe(0);
  });
  it("always says master with slave reads off or no slaves", () => {
    expect(suggestBrokerId({ ...on, slaveReadEnable: false }, 1, { maxOffset: 1000, nextBeginOffset: 0 })).toBe(0);
    expect(suggestBrokerId({ ...on, slavesPerBroker: 0 }, 0, { maxOffset: 1000, nextBeginOffset: 0 })).toBe(0);
  });
  it("never suggests a slave that is unhealthy or does not hold the consumer's next offset yet", () => {
    expect(suggestBrokerId(on, 0, { maxOffset: 1000, nextBeginOffset: 899 })).toBe(0);
    expect(suggestBrokerId(on, 0, { maxOffset: 1000, nextBeginOffset: 899, slaveHolds: 899 })).toBe(0);
  });
});
