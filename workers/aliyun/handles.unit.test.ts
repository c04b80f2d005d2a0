/** Half-message handles, ack bodies and the door's dispatch and query rules. */
import { describe, expect, it } from "vitest";
import { encodeReceiptHandle } from "../../protocol/receipt-handle.js";
import { failureCode, MAX_HANDLES, readHandles } from "./ack.js";
import { readConsumeParams } from "./consume.js";
import { AliyunError } from "./errors.js";
import { decodeHalfHandle, encodeHalfHandle } from "./half-handle.js";
import { isAliyunRequest } from "./routes.js";
import { parseXml } from "./xml.js";

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AliyunError) return e.code;
    throw e;
  }
  return "NO_ERROR";
}

describe("half-message handles", () => {
  it("round-trip, are URL- and XML-safe, and are told apart from POP handles", () => {
    const h = { brokerName: "broker-a", topic: "T|x", queueId: 3, transactionId: "ABC123", validUntil: 1_800_000_000_000 };
    const text = encodeHalfHandle(h);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeHalfHandle(text)).toEqual(h);
    const pop = encodeReceiptHandle({ brokerName: "broker-a", topic: "T", queueId: 0, queueOffset: 1, nonce: 1, invisibleUntil: 1 });
    expect(decodeHalfHandle(pop)).toBeNull();
    expect(decodeHalfHandle("adfadfadfadf")).toBeNull();
    expect(decodeHalfHandle(encodeHalfHandle({ ...h, transactionId: "../x" }))).toBeNull();
  });
});

describe("ack bodies", () => {
  it("reads 1-16 handles and refuses none or more", () => {
    expect(readHandles(parseXml("<ReceiptHandles><ReceiptHandle>a</ReceiptHandle><ReceiptHandle>b</ReceiptHandle></ReceiptHandles>"))).toEqual(["a", "b"]);
    expect(code(() => readHandles(parseXml("<ReceiptHandles/>")))).toBe("MissingReceiptHandle");
    const many = `<ReceiptHandles>${"<ReceiptHandle>h</ReceiptHandle>".repeat(MAX_HANDLES + 1)}</ReceiptHandles>`;
    expect(code(() => readHandles(parseXml(many)))).toBe("InvalidArgument");
    expect(failureCode("RECEIPT_HANDLE_EXPIRED")).toBe("MessageNotExist");
    expect(failureCode("RECEIPT_HANDLE_INVALID")).toBe("ReceiptHandleError");
  });
});

describe("the door's requests", () => {
  it("takes a request that signs with MQ or names a consumer, and leaves the native query by key alone", () => {
    const q = (s: string) => new URLSearchParams(s);
    expect(isAliyunRequest(q("key=k"), null)).toBe(false);
    expect(isAliyunRequest(q("key=k"), "Bearer t")).toBe(false);
    expect(isAliyunRequest(q(""), null)).toBe(false);
    expect(isAliyunRequest(q(""), "MQ a:b")).toBe(true);
    expect(isAliyunRequest(q("consumer=G"), null)).toBe(true);
  });

  it("reads numOfMessages 1-16, waitseconds 0-30 and the tag expression", () => {
    expect(readConsumeParams(new URLSearchParams("numOfMessages=3&waitseconds=3&tag=TagA%7C%7CTagB"))).toEqual({
      numOfMessages: 3,
      waitSeconds: 3,
      tagExpression: "TagA||TagB",
    });
    expect(readConsumeParams(new URLSearchParams("numOfMessages=16&tag=*"))).toEqual({ numOfMessages: 16, waitSeconds: 0 });
    for (const bad of [
      "numOfMessages=0",
      "numOfMessages=17",
      "numOfMessages=undefined",
      "",
      "numOfMessages=1&waitseconds=31",
      "numOfMessages=1&waitseconds=-1",
    ])
      expect(
        code(() => readConsumeParams(new URLSearchParams(bad))),
        bad,
      ).toBe("InvalidArgument");
  });
});
