/** The pop_group row's compact form: round trip, and rows of the object form still read. */
import { describe, expect, it } from "vitest";
import type { PopState } from "./pop-state.js";
import { decodePopState, encodePopState } from "./pop-state-row.js";

const state: PopState = {
  cursor: 120,
  nonce: 77,
  inflight: [
    { offset: 100, nonce: 70, invisibleUntil: 1_800_000_060_000, visibleAt: 1_800_000_070_000, reconsumeTimes: 0, firstReceivedAt: 1_800_000_000_000 },
    {
      offset: 101,
      nonce: 77,
      invisibleUntil: 1_800_000_090_000,
      visibleAt: 1_800_000_090_000,
      reconsumeTimes: 3,
      firstReceivedAt: 1_799_000_000_000,
      key: "order-7",
    },
    { offset: 102, nonce: 71, invisibleUntil: 1, visibleAt: 2, reconsumeTimes: 1, firstReceivedAt: 0, key: "" },
  ],
};

describe("pop_group rows", () => {
  it("round-trip a state, keys (the empty one too) and all", () => {
    expect(decodePopState(encodePopState(state))).toEqual(state);
    expect(decodePopState(encodePopState({ cursor: 0, nonce: 0, inflight: [] }))).toEqual({ cursor: 0, nonce: 0, inflight: [] });
  });

  it("are smaller than the object form", () => {
    expect(encodePopState(state).length).toBeLessThan(JSON.stringify(state).length * 0.6);
  });

  it("still read a row written in the object form", () => {
    expect(decodePopState(JSON.stringify(state))).toEqual(state);
  });

  it("refuse a form they do not know", () => {
    expect(() => decodePopState("[3, 0, 0, []]")).toThrow(/unknown form/);
  });
});
