/** Receipt handles: round trip, URL/XML-safe text, and refusal of anything this version did not write. */
import { describe, expect, it } from "vitest";
import { bytesToBase64Url } from "./base64.js";
import { decodeReceiptHandle, encodeReceiptHandle, type ReceiptHandle } from "./receipt-handle.js";

const handle: ReceiptHandle = { brokerName: "broker-a", topic: "T/ü", queueId: 3, queueOffset: 41, nonce: 7, invisibleUntil: 1_795_697_088_972 };
const raw = (v: unknown) => bytesToBase64Url(new TextEncoder().encode(JSON.stringify(v)));

describe("receipt handles", () => {
  it("round-trip in URL- and XML-safe characters", () => {
    const text = encodeReceiptHandle(handle);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeReceiptHandle(text)).toEqual(handle);
  });

  it("refuse garbage, other versions and wrong field types", () => {
    expect(decodeReceiptHandle("")).toBeNull();
    expect(decodeReceiptHandle("not a handle!")).toBeNull();
    expect(decodeReceiptHandle(raw({ a: 1 }))).toBeNull();
    expect(decodeReceiptHandle(raw([2, "b", "T", 0, 1, 1, 1]))).toBeNull();
    expect(decodeReceiptHandle(raw([1, "b", "T", -1, 1, 1, 1]))).toBeNull();
    expect(decodeReceiptHandle(raw([1, "b", "T", 0, 1.5, 1, 1]))).toBeNull();
    expect(decodeReceiptHandle(raw([1, "b", 5, 0, 1, 1, 1]))).toBeNull();
    expect(decodeReceiptHandle(raw([1, "b", "T", 0, 1, 1, 1]))).toEqual({
      brokerName: "b",
      topic: "T",
      queueId: 0,
      queueOffset: 1,
      nonce: 1,
      invisibleUntil: 1,
    });
  });
});
