import { describe, expect, it } from "vitest";
import { decodeMessages, encodeMessages, storedSize } from "./log-codec.js";
import type { StoredMessage } from "./message.js";

function msg(extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    msgId: "0A0B0C0D0E0F00000000000000000001",
    tags: "",
    keys: [],
    properties: {},
    bornTimestamp: 1_700_000_000_000,
    bornHost: "",
    flag: 0,
    reconsumeTimes: 0,
    body: new TextEncoder().encode("hello"),
    ...extra,
  };
}

function roundTrip(messages: StoredMessage[]): StoredMessage[] {
  return decodeMessages(encodeMessages(messages));
}

describe("encodeMessages / decodeMessages", () => {
  it("round-trips a message with every field set", () => {
    const m = msg({
      tags: "TagA",
      keys: ["order-1", "user-2"],
      properties: { region: "eu", priority: "high" },
      bornHost: "10.0.0.1:1234",
      flag: 7,
      reconsumeTimes: 3,
    });
    expect(roundTrip([m])).toEqual([m]);
  });

  it("round-trips empty fields as empty values", () => {
    const m = msg({ body: new Uint8Array(0), bornTimestamp: 0 });
    const [back] = roundTrip([m]);
    expect(back).toEqual(m);
    expect(back!.tags).toBe("");
    expect(back!.keys).toEqual([]);
    expect(back!.properties).toEqual({});
    expect(back!.bornHost).toBe("");
    expect(back!.flag).toBe(0);
    expect(back!.reconsumeTimes).toBe(0);
    expect(back!.body.length).toBe(0);
    expect(back!.bornTimestamp).toBe(0);
  });

  it("round-trips unicode in every string field", () => {
    const m = msg({
      msgId: "id-ü",
      tags: "标签😀",
      keys: ["ключ", "鍵🔑"],
      properties: { név: "érték ✓", "😀": '\u0000\u001f"\\', empty: "" },
      bornHost: "höst",
      body: new TextEncoder().encode("body 中文 🚀"),
    });
    expect(roundTrip([m])).toEqual([m]);
  });

  it("round-trips a binary body with every byte value and a large body", () => {
    const every = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
    const large = new Uint8Array(300_000);
    crypto.getRandomValues(large.subarray(0, 65536));
    large.fill(0xab, 65536);
    const messages = [msg({ body: every }), msg({ body: large, msgId: "second" })];
    const back = roundTrip(messages);
    expect(back.length).toBe(2);
    expect(back[0]).toEqual(messages[0]);
    const { body: largeBack, ...rest } = back[1]!;
    const { body: _large, ...expectedRest } = messages[1]!;
    expect(rest).toEqual(expectedRest);
    expect(largeBack.length).toBe(large.length);
    expect(largeBack.every((b, i) => b === large[i])).toBe(true);
  });

  it("round-trips negative flags and large numbers", () => {
    const m = msg({ flag: -2147483648, reconsumeTimes: 16, bornTimestamp: Number.MAX_SAFE_INTEGER });
    expect(roundTrip([m])).toEqual([m]);
  });

  it("round-trips many messages in order", () => {
    const messages = Array.from({ length: 100 }, (_, i) =>
      msg({
        msgId: `ID${i}`,
        tags: i % 3 === 0 ? "" : `T${i % 3}`,
        keys: i % 2 === 0 ? [] : [`k${i}`],
        properties: i % 5 === 0 ? { n: String(i) } : {},
        body: Uint8Array.from({ length: i }, (_, j) => (i + j) & 0xff),
      }),
    );
    const back = roundTrip(messages);
    expect(back.length).toBe(100);
    expect(back).toEqual(messages);
  });

  it("encodes nothing as zero bytes and decodes zero bytes as nothing", () => {
    expect(encodeMessages([]).length).toBe(0);
    expect(decodeMessages(new Uint8Array(0))).toEqual([]);
  });

  it("lays a message out as u32 header length, JSON header, u32 body length, body", () => {
    const data = encodeMessages([msg({ msgId: "A", bornTimestamp: 1, body: Uint8Array.from([9, 8]) })]);
    const header = '{"i":"A","bt":1}';
    expect(Array.from(data)).toEqual([0, 0, 0, header.length, ...Array.from(new TextEncoder().encode(header)), 0, 0, 0, 2, 9, 8]);
  });

  it("decodes a row that is a view into a larger buffer", () => {
    const messages = [msg({ tags: "A" }), msg({ msgId: "B", body: Uint8Array.from([1, 2, 3]) })];
    const encoded = encodeMessages(messages);
    const big = new Uint8Array(encoded.length + 17);
    big.fill(0xff);
    big.set(encoded, 11);
    expect(decodeMessages(big.subarray(11, 11 + encoded.length))).toEqual(messages);
  });

  it("hands out bodies that do not share the row buffer", () => {
    const data = encodeMessages([msg({ body: Uint8Array.from([1, 2, 3]) })]);
    const [back] = decodeMessages(data);
    data.fill(0);
    expect(Array.from(back!.body)).toEqual([1, 2, 3]);
    expect(back!.body.byteOffset).toBe(0);
    expect(back!.body.buffer.byteLength).toBe(3);
  });
});

describe("storedSize", () => {
  it("item 1: sizes a message as stored, keys and properties included, without encoding it", () => {
    const keys = Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(255, "k"));
    const properties = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`p${i}`, "v".repeat(4000)]));
    for (const m of [msg(), msg({ keys, properties, tags: "T".repeat(255), bornHost: "10.0.0.1:1", flag: 3, reconsumeTimes: 2 })]) {
      const exact = encodeMessages([m]).length;
      expect(storedSize(m)).toBeGreaterThanOrEqual(exact);
      expect(storedSize(m)).toBeLessThan(exact + 128);
    }
  });
});
