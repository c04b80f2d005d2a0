import { describe, expect, it } from "vitest";
import { createMsgId, msgIdBornTime } from "./msg-id.js";

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

  it("packs 12 hex digits of time between random bytes", () => {
    const a = createMsgId(0x0123456789ab);
    const b = createMsgId(0);
    expect(a.slice(12, 24)).toBe("0123456789AB");
    expect(b.slice(12, 24)).toBe("000000000000");
    expect(msgIdBornTime(createMsgId(1_700_000_000_123), 1_700_000_000_000)).toBe(1_700_000_000_123);
  });

  it("item 2: ids are not guessable: 80 random bits each, none shared with or following from the previous id", () => {
    const now = Date.now();
    const ids = Array.from({ length: 2000 }, () => createMsgId(now));
    const random = ids.map((id) => id.slice(0, 12) + id.slice(24));
    // No part of an id predicts the next one: neither a shared prefix nor a counter.
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i]!.slice(0, 12)).not.toBe(ids[i - 1]!.slice(0, 12));
      expect(parseInt(ids[i]!.slice(24), 16)).not.toBe((parseInt(ids[i - 1]!.slice(24), 16) + 1) >>> 0);
    }
    // Every one of the 80 random bits takes both values, and each is set about half the time.
    for (let bit = 0; bit < 80; bit++) {
      const digit = Math.floor(bit / 4);
      const ones = random.filter((r) => (parseInt(r[digit]!, 16) >> (3 - (bit % 4))) & 1).length;
      expect(ones, `bit ${bit}`).toBeGreaterThan(800);
      expect(ones, `bit ${bit}`).toBeLessThan(1200);
    }
  });

  it("keeps the id 32 characters for the real clock and far-future times", () => {
    expect(createMsgId(Date.now()).length).toBe(32);
    expect(createMsgId(0xfffffffffffff).length).toBe(32);
  });
});
