import { describe, expect, it } from "vitest";
import { bytesToBase64Url, base64UrlToBytes } from "./base64.js";
import { decodeOffsetMsgId, encodeOffsetMsgId, type OffsetMsgIdParts } from "./offset-msg-id.js";

const CASES: OffsetMsgIdParts[] = [
  { brokerName: "broker-a", topic: "TopicTest", queueId: 0, queueOffset: 0 },
  { brokerName: "b", topic: "t", queueId: 1, queueOffset: 1 },
  { brokerName: "broker_b-2", topic: "%RETRY%group|x", queueId: 1023, queueOffset: 123_456_789 },
  { brokerName: "x".repeat(64), topic: "t".repeat(127), queueId: 65535, queueOffset: Number.MAX_SAFE_INTEGER },
  { brokerName: "broker-a", topic: "T", queueId: 7, queueOffset: 2 ** 32 + 5 },
];

describe("encodeOffsetMsgId / decodeOffsetMsgId", () => {
  it.each(CASES)("round-trips %o", (parts) => {
    const id = encodeOffsetMsgId(parts);
    expect(/^[A-Za-z0-9_-]+$/.test(id)).toBe(true);
    expect(decodeOffsetMsgId(id)).toEqual(parts);
  });

  it("gives distinct ids for distinct parts", () => {
    const ids = new Set<string>();
    for (const brokerName of ["broker-a", "broker-b"])
      for (const topic of ["T1", "T2"])
        for (let queueId = 0; queueId < 4; queueId++)
          for (const queueOffset of [0, 1, 1000]) ids.add(encodeOffsetMsgId({ brokerName, topic, queueId, queueOffset }));
    expect(ids.size).toBe(2 * 2 * 4 * 3);
  });

  it("lays out version, broker, topic, u16 queueId, f64 offset", () => {
    const bytes = base64UrlToBytes(encodeOffsetMsgId({ brokerName: "ab", topic: "T", queueId: 258, queueOffset: 1 }))!;
    expect(Array.from(bytes)).toEqual([2, 2, 0x61, 0x62, 0, 1, 0x54, 1, 2, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
  });

  it("still reads version 1 ids (one-byte topic length)", () => {
    const v1 = bytesToBase64Url(new Uint8Array([1, 2, 0x61, 0x62, 1, 0x54, 1, 2, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]));
    expect(decodeOffsetMsgId(v1)).toEqual({ brokerName: "ab", topic: "T", queueId: 258, queueOffset: 1 });
  });

  it("round-trips a %DLQ% topic of a 255-character group (longer than 255 bytes)", () => {
    const parts = { brokerName: "broker-a", topic: `%DLQ%${"g".repeat(255)}`, queueId: 0, queueOffset: 7 };
    expect(decodeOffsetMsgId(encodeOffsetMsgId(parts))).toEqual(parts);
  });

  it.each(["", "!", "!!!!", "AAAA", "A", "AA==", "abc def", "x".repeat(401), "%2F", "ZZZZZZZZZZZZZZZZZZZZZZZZ"])("decodes garbage %j to undefined", (id) => {
    expect(decodeOffsetMsgId(id)).toBeUndefined();
  });

  it("decodes an id with a wrong version to undefined", () => {
    const bytes = base64UrlToBytes(encodeOffsetMsgId(CASES[0]!))!;
    for (const version of [0, 3, 255]) {
      const copy = bytes.slice();
      copy[0] = version;
      expect(decodeOffsetMsgId(bytesToBase64Url(copy)), `version ${version}`).toBeUndefined();
    }
  });

  it("decodes every truncation of a valid id to undefined", () => {
    for (const parts of CASES) {
      const id = encodeOffsetMsgId(parts);
      for (let k = 0; k < id.length; k++) {
        expect(decodeOffsetMsgId(id.slice(0, k)), `${id} cut to ${k}`).toBeUndefined();
      }
    }
  });

  it("decodes every byte-truncation and an extended id to undefined", () => {
    const bytes = base64UrlToBytes(encodeOffsetMsgId(CASES[2]!))!;
    for (let k = 0; k < bytes.length; k++) {
      expect(decodeOffsetMsgId(bytesToBase64Url(bytes.subarray(0, k))), `cut to ${k} bytes`).toBeUndefined();
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(decodeOffsetMsgId(bytesToBase64Url(longer))).toBeUndefined();
  });

  it("decodes lengths that point past the end to undefined", () => {
    // version 1, broker length 200 but only a few bytes follow
    const bytes = Uint8Array.from([1, 200, 0x61, 1, 0x54, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeOffsetMsgId(bytesToBase64Url(bytes))).toBeUndefined();
    // topic length 9 though only 1 topic byte is there
    const bytes2 = Uint8Array.from([1, 1, 0x61, 9, 0x54, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeOffsetMsgId(bytesToBase64Url(bytes2))).toBeUndefined();
  });

  it("decodes offsets that are not non-negative safe integers to undefined", () => {
    for (const queueOffset of [-1, 0.5, Number.NaN, Infinity, 2 ** 53]) {
      const id = encodeOffsetMsgId({ brokerName: "broker-a", topic: "T", queueId: 0, queueOffset });
      expect(decodeOffsetMsgId(id), String(queueOffset)).toBeUndefined();
    }
  });

  it("decodes standard base64 (with + / =) to undefined", () => {
    // Pick a case whose encoding needs padding in standard base64.
    const bytes = CASES.map((c) => base64UrlToBytes(encodeOffsetMsgId(c))!).find((b) => b.length % 3 === 1)!;
    const standard = btoa(String.fromCharCode(...bytes));
    expect(standard.endsWith("==")).toBe(true);
    expect(decodeOffsetMsgId(standard)).toBeUndefined();
  });
});

describe("encodeOffsetMsgId's shared head", () => {
  it("gives the same text as encoding the whole id at once, for heads of every length modulo 3", () => {
    for (let brokerLength = 1; brokerLength <= 6; brokerLength++)
      for (let topicLength = 1; topicLength <= 6; topicLength++)
        for (const [queueId, queueOffset] of [
          [0, 0],
          [1, 1],
          [7, 255],
          [65535, Number.MAX_SAFE_INTEGER],
          [258, 2 ** 40 + 3],
        ] as const) {
          const brokerName = "b".repeat(brokerLength);
          const topic = "é".repeat(topicLength); // two UTF-8 bytes each
          const broker = new TextEncoder().encode(brokerName);
          const topicBytes = new TextEncoder().encode(topic);
          const whole = new Uint8Array(2 + broker.length + 2 + topicBytes.length + 10);
          const view = new DataView(whole.buffer);
          whole[0] = 2;
          whole[1] = broker.length;
          whole.set(broker, 2);
          view.setUint16(2 + broker.length, topicBytes.length);
          whole.set(topicBytes, 4 + broker.length);
          view.setUint16(4 + broker.length + topicBytes.length, queueId);
          view.setFloat64(6 + broker.length + topicBytes.length, queueOffset);
          expect(encodeOffsetMsgId({ brokerName, topic, queueId, queueOffset })).toBe(bytesToBase64Url(whole));
        }
  });

  it("does not let one id's queue and offset leak into the next of the same head", () => {
    const a = encodeOffsetMsgId({ brokerName: "broker-a", topic: "T", queueId: 3, queueOffset: 99 });
    encodeOffsetMsgId({ brokerName: "broker-a", topic: "T", queueId: 4, queueOffset: 100 });
    expect(encodeOffsetMsgId({ brokerName: "broker-a", topic: "T", queueId: 3, queueOffset: 99 })).toBe(a);
  });
});
