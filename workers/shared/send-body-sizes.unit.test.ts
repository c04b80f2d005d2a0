import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../protocol/base64.js";
import { BodySizeScanner, brokenBodyLimit, type BodySizes } from "./send-body-sizes.js";

const encoder = new TextEncoder();
const MiB = 1024 * 1024;

/** Scans `json` cut into chunks of `chunkBytes`. */
function scan(json: string, chunkBytes = 7): BodySizes {
  const bytes = encoder.encode(json);
  const scanner = new BodySizeScanner();
  for (let i = 0; i < bytes.length; i += chunkBytes) scanner.push(bytes.subarray(i, i + chunkBytes));
  return scanner.result();
}

describe("BodySizeScanner", () => {
  it("measures every message body as the send path decodes it, whatever the chunking", () => {
    const request = JSON.stringify({
      messages: [
        { body: "eA==", tags: "body" }, // 1 byte
        { keys: ["body"], body: "aGVsbG8gd29ybGQ=", properties: { body: "x".repeat(50) } }, // 11 bytes
        { bodyEncoding: "utf8", body: 'é"\\\n\u0001€😀' }, // 2+1+1+1+1+3+4 = 13 bytes
        { body: "é€", bodyEncoding: "utf8" }, // 5 bytes: the encoding may follow the body
      ],
    });
    const expected = { count: 4, largest: 13, largestIndex: 2, total: 30 };
    for (const chunk of [1, 2, 3, 7, 64, request.length]) expect(scan(request, chunk), `chunks of ${chunk}`).toEqual(expected);
  });

  it("finds the bodies of a multi-queue send, and ignores strings that only look like keys", () => {
    const request = JSON.stringify({
      queues: [
        { brokerName: "broker-a", queueId: 0, messages: [{ body: "AAAA" }, { body: "AAAAAAAA" }] },
        { brokerName: "body", queueId: 1, messages: [{ body: "AA==" }] },
      ],
    });
    expect(scan(request)).toEqual({ count: 3, largest: 6, largestIndex: 1, total: 10 });
    expect(scan(`{"messages":[{"tags":"{\\"body\\":\\"AAAA\\"}","body":"AAAA"}]}`)).toEqual({ count: 1, largest: 3, largestIndex: 0, total: 3 });
  });

  it("names the body limit before the bodies-per-send limit, and neither for bodies within both", () => {
    const b64 = (bytes: number) => bytesToBase64(new Uint8Array(bytes));
    const over = scan(JSON.stringify({ messages: [{ body: "eA==" }, { body: b64(5 * MiB) }] }), 64 * 1024);
    expect(over).toEqual({ count: 2, largest: 5 * MiB, largestIndex: 1, total: 5 * MiB + 1 });
    expect(brokenBodyLimit(over)).toBe("body");
    expect(brokenBodyLimit(scan(JSON.stringify({ messages: [{ body: b64(3 * MiB) }, { body: b64(3 * MiB) }] }), 64 * 1024))).toBe("bodies");
    expect(brokenBodyLimit(scan(JSON.stringify({ messages: [{ body: b64(4 * MiB) }] }), 64 * 1024))).toBeNull();
  });

  it("yields what it counted before input that is not JSON, and stops at absurd nesting", () => {
    expect(scan(`{"messages":[{"body":"AAAA"}]} garbage "{{{`)).toEqual({ count: 1, largest: 3, largestIndex: 0, total: 3 });
    expect(scan(`${"[".repeat(100_000)}{"body":"AAAA"}`)).toEqual({ count: 0, largest: 0, largestIndex: -1, total: 0 });
    expect(scan("")).toEqual({ count: 0, largest: 0, largestIndex: -1, total: 0 });
  });
});
