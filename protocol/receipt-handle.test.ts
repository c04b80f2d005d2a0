/** Receipt handles: round trip, URL/XML-safe text, version 1 still read, and refusal of anything else. */
import { describe, expect, it } from "vitest";
import { bytesToBase64Url } from "./base64.js";
import { decodeReceiptHandle, encodeReceiptHandle, type ReceiptHandle } from "./receipt-handle.js";

const handle: ReceiptHandle = { brokerName: "broker-a", topic: "%RETRY%g|T/ü😀", queueId: 3, queueOffset: 41, nonce: 7, invisibleUntil: 1_795_697_088_972 };
const raw = (v: unknown) => bytesToBase64Url(new TextEncoder().encode(JSON.stringify(v)));
/** URL-unreserved characters (RFC 3986), none of which XML escapes. */
const URL_SAFE = /^[A-Za-z0-9_.~-]+$/;

describe("receipt handles", () => {
  it("round-trip in URL- and XML-safe characters, names of any characters included", () => {
    const text = encodeReceiptHandle(handle);
    expect(text).toMatch(URL_SAFE);
    expect(decodeReceiptHandle(text)).toEqual(handle);
    const plain = { ...handle, topic: "Orders_2024-x", queueOffset: Number.MAX_SAFE_INTEGER };
    expect(encodeReceiptHandle(plain)).toBe(`2.broker-a.Orders_2024-x.3.${Number.MAX_SAFE_INTEGER.toString(36)}.7.${handle.invisibleUntil.toString(36)}`);
    expect(decodeReceiptHandle(encodeReceiptHandle(plain))).toEqual(plain);
  });

  it("read version 1 (base64url of JSON), which receives gave out before", () => {
    expect(decodeReceiptHandle(raw([1, "b", "T|x", 0, 1, 2, 3]))).toEqual({
      brokerName: "b",
      topic: "T|x",
      queueId: 0,
      queueOffset: 1,
      nonce: 2,
      invisibleUntil: 3,
    });
  });

  it("refuse garbage, other versions and wrong field types", () => {
    expect(decodeReceiptHandle("")).toBeNull();
    expect(decodeReceiptHandle("not a handle!")).toBeNull();
    expect(decodeReceiptHandle(raw({ a: 1 }))).toBeNull();
    expect(decodeReceiptHandle(raw([2, "b", "T", 0, 1, 1, 1]))).toBeNull();
    expect(decodeReceiptHandle(raw([1, "b", "T", -1, 1, 1, 1]))).toBeNull();
    expect(decodeReceiptHandle(raw([1, "b", "T", 0, 1.5, 1, 1]))).toBeNull();
    expect(decodeReceiptHandle(raw([1, "b", 5, 0, 1, 1, 1]))).toBeNull();
    for (const text of [
      "2.b.T.0.1.1", // a field short
      "2.b.T.0.1.1.1.1", // a field over
      "2.b.T.-1.1.1.1",
      "2.b.T.0.1.1.1z!",
      "2.b.T.0.1.1.1.",
      "2.b..0.1.1.1x",
      "2.b.T.0.zzzzzzzzzzz.1.1", // past the largest safe integer
      "2.b.T~zz.0.1.1.1",
      "2.b.T%.0.1.1.1",
      "2.b.T.0.1.1.A",
      "3.b.T.0.1.1.1",
      `2.b.${"T".repeat(3000)}.0.1.1.1`,
    ]) {
      expect(decodeReceiptHandle(text), text).toBeNull();
    }
    expect(decodeReceiptHandle("2.b.T.0.1.1.1")).toEqual({ brokerName: "b", topic: "T", queueId: 0, queueOffset: 1, nonce: 1, invisibleUntil: 1 });
  });
});
