import { describe, expect, it } from "vitest";
import { createMsgId } from "./msg-id.js";

const HEX32 = /^[0-9A-F]{32}$/;

describe("createMsgId", () => {
  it("is 32 uppercase hex characters", () => {
    for (let i = 0; i < 100; i++) {
      const id = createMsgId();
      expect(id.length).toBe(32);
      expect(HEX32.test(id)).toBe(true);
    }
  });

  it("gives 10000 distinct ids, even within one millisecond", () => {
    const now = Date.now();
    const same = new Set<string>();
    const live = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      same.add(createMsgId(now));
      live.add(createMsgId());
    }
    expect(same.size).toBe(10_000);
    expect(live.size).toBe(10_000);
  });

  it("packs a per-process prefix, 12 hex digits of time and an incrementing counter", () => {
    const a = createMsgId(0x0123456789ab);
    const b = createMsgId(0);
    expect(a.slice(0, 12)).toBe(b.slice(0, 12));
    expect(a.slice(12, 24)).toBe("0123456789AB");
    expect(b.slice(12, 24)).toBe("000000000000");
    expect(parseInt(b.slice(24), 16)).toBe((parseInt(a.slice(24), 16) + 1) >>> 0);
  });

  it("keeps the id 32 characters for the real clock and far-future times", () => {
    expect(createMsgId(Date.now()).length).toBe(32);
    expect(createMsgId(0xfffffffffffff).length).toBe(32);
  });
});
