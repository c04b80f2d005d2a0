import { describe, expect, it } from "vitest";
import { isMQError } from "../protocol/errors.js";
import { Limits } from "../protocol/limits.js";
import { checkBatch, messageSize, splitBatches } from "./batch.js";
import type { Message } from "./message.js";

const MiB = 1024 * 1024;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isMQError(e) ? e.code : `NOT_MQERROR:${String(e)}`;
  }
  return "NO_ERROR";
}

/** A message whose body is exactly `size` bytes, tagged with its index for order checks. */
function sized(size: number, i = 0, topic = "T"): Message {
  return { topic, body: new Uint8Array(size), tags: `m${i}` };
}

const tagsOf = (batches: Message[][]): string[][] => batches.map((b) => b.map((m) => m.tags!));

describe("messageSize", () => {
  it("counts string bodies in UTF-8 bytes and binary bodies by length", () => {
    expect(messageSize({ topic: "T", body: "abc" })).toBe(3);
    expect(messageSize({ topic: "T", body: "é" })).toBe(2);
    expect(messageSize({ topic: "T", body: "😀" })).toBe(4);
    expect(messageSize({ topic: "T", body: new Uint8Array(17) })).toBe(17);
  });
});

describe("splitBatches", () => {
  it("returns no batch for no message", () => {
    expect(splitBatches([])).toEqual([]);
  });

  it("keeps everything in one batch when under both caps", () => {
    const msgs = Array.from({ length: 5 }, (_, i) => sized(10, i));
    const batches = splitBatches(msgs, { maxBatchBytes: 50, maxBatchCount: 5 });
    expect(batches.length).toBe(1);
    expect(batches[0]).toEqual(msgs);
    // The very same objects, in the same order.
    batches[0]!.forEach((m, i) => expect(m).toBe(msgs[i]));
  });

  it("fills a batch up to exactly maxBatchBytes and starts a new one at one byte more", () => {
    // 10 + 10 + 10 = 30 fits exactly; the fourth would make 40.
    const msgs = Array.from({ length: 7 }, (_, i) => sized(10, i));
    expect(tagsOf(splitBatches(msgs, { maxBatchBytes: 30 }))).toEqual([["m0", "m1", "m2"], ["m3", "m4", "m5"], ["m6"]]);
    // At 29 only two fit.
    expect(tagsOf(splitBatches(msgs, { maxBatchBytes: 29 }))).toEqual([["m0", "m1"], ["m2", "m3"], ["m4", "m5"], ["m6"]]);
  });

  it("a message of exactly maxBatchBytes travels alone", () => {
    const msgs = [sized(1, 0), sized(100, 1), sized(1, 2)];
    expect(tagsOf(splitBatches(msgs, { maxBatchBytes: 100 }))).toEqual([["m0"], ["m1"], ["m2"]]);
  });

  it("fills a batch up to exactly maxBatchCount", () => {
    const msgs = Array.from({ length: 10 }, (_, i) => sized(1, i));
    expect(tagsOf(splitBatches(msgs, { maxBatchCount: 4 }))).toEqual([
      ["m0", "m1", "m2", "m3"],
      ["m4", "m5", "m6", "m7"],
      ["m8", "m9"],
    ]);
    expect(splitBatches(msgs, { maxBatchCount: 10 }).map((b) => b.length)).toEqual([10]);
    expect(splitBatches(msgs, { maxBatchCount: 9 }).map((b) => b.length)).toEqual([9, 1]);
    expect(splitBatches(msgs, { maxBatchCount: 1 }).map((b) => b.length)).toEqual(Array(10).fill(1));
  });

  it("applies whichever cap is reached first", () => {
    const msgs = [sized(5, 0), sized(5, 1), sized(20, 2), sized(1, 3), sized(1, 4), sized(1, 5), sized(1, 6)];
    expect(tagsOf(splitBatches(msgs, { maxBatchBytes: 25, maxBatchCount: 3 }))).toEqual([
      ["m0", "m1"], // 5 + 5 + 20 = 30 > 25
      ["m2", "m3", "m4"], // 20 + 1 + 1 = 22, count cap 3
      ["m5", "m6"],
    ]);
  });

  it("counts string bodies in UTF-8 bytes", () => {
    // "é" is 2 bytes: three of them make 6.
    const msgs: Message[] = Array.from({ length: 4 }, (_, i) => ({ topic: "T", body: "é", tags: `m${i}` }));
    expect(tagsOf(splitBatches(msgs, { maxBatchBytes: 6 }))).toEqual([["m0", "m1", "m2"], ["m3"]]);
    expect(tagsOf(splitBatches(msgs, { maxBatchBytes: 5 }))).toEqual([
      ["m0", "m1"],
      ["m2", "m3"],
    ]);
  });

  it("preserves order across batches for many messages", () => {
    const sizes = Array.from({ length: 200 }, (_, i) => 1 + ((i * 37) % 50));
    const msgs = sizes.map((s, i) => sized(s, i));
    const batches = splitBatches(msgs, { maxBatchBytes: 120, maxBatchCount: 7 });
    expect(batches.flat()).toEqual(msgs);
    for (const b of batches) {
      expect(b.length).toBeGreaterThan(0);
      expect(b.length).toBeLessThanOrEqual(7);
      expect(b.reduce((n, m) => n + messageSize(m), 0)).toBeLessThanOrEqual(120);
    }
    // Greedy: a batch is only cut when the next message would not fit.
    for (let i = 0; i + 1 < batches.length; i++) {
      const b = batches[i]!;
      const next = batches[i + 1]![0]!;
      const bytes = b.reduce((n, m) => n + messageSize(m), 0);
      expect(b.length === 7 || bytes + messageSize(next) > 120).toBe(true);
    }
  });

  it("refuses a single message over maxBatchBytes with MESSAGE_BODY_TOO_LARGE", () => {
    expect(codeOf(() => splitBatches([sized(10), sized(101), sized(10)], { maxBatchBytes: 100 }))).toBe("MESSAGE_BODY_TOO_LARGE");
    expect(codeOf(() => splitBatches([sized(101)], { maxBatchBytes: 100 }))).toBe("MESSAGE_BODY_TOO_LARGE");
    expect(codeOf(() => splitBatches([sized(100)], { maxBatchBytes: 100 }))).toBe("NO_ERROR");
  });

  it("defaults to 4 MiB and 1024 messages", () => {
    expect(splitBatches(Array.from({ length: 5 }, (_, i) => sized(MiB, i))).map((b) => b.length)).toEqual([4, 1]);
    expect(splitBatches(Array.from({ length: 2049 }, (_, i) => sized(1, i))).map((b) => b.length)).toEqual([1024, 1024, 1]);
    expect(codeOf(() => splitBatches([sized(4 * MiB + 1)]))).toBe("MESSAGE_BODY_TOO_LARGE");
    expect(codeOf(() => splitBatches([sized(4 * MiB)]))).toBe("NO_ERROR");
  });

  it("every batch it returns passes checkBatch", () => {
    const msgs = Array.from({ length: 3000 }, (_, i) => sized(i % 3 === 0 ? 10_000 : 3_000, i));
    const batches = splitBatches(msgs);
    expect(batches.length).toBeGreaterThan(2);
    for (const b of batches) expect(codeOf(() => checkBatch(b))).toBe("NO_ERROR");
  });
});

describe("checkBatch", () => {
  it("accepts a batch of one topic", () => {
    expect(
      codeOf(() =>
        checkBatch([
          { topic: "T", body: "a" },
          { topic: "T", body: "b", tags: "x", keys: "k" },
        ]),
      ),
    ).toBe("NO_ERROR");
  });

  it("refuses an empty batch with MESSAGE_ILLEGAL", () => {
    expect(codeOf(() => checkBatch([]))).toBe("MESSAGE_ILLEGAL");
  });

  it("refuses mixed topics with MESSAGE_ILLEGAL", () => {
    expect(
      codeOf(() =>
        checkBatch([
          { topic: "T", body: "a" },
          { topic: "U", body: "b" },
        ]),
      ),
    ).toBe("MESSAGE_ILLEGAL");
    expect(
      codeOf(() =>
        checkBatch([
          { topic: "T", body: "a" },
          { topic: "T", body: "b" },
          { topic: "t", body: "c" },
        ]),
      ),
    ).toBe("MESSAGE_ILLEGAL");
  });

  it("refuses a %RETRY% topic with MESSAGE_ILLEGAL", () => {
    expect(
      codeOf(() =>
        checkBatch([
          { topic: "%RETRY%G", body: "a" },
          { topic: "%RETRY%G", body: "b" },
        ]),
      ),
    ).toBe("MESSAGE_ILLEGAL");
    expect(codeOf(() => checkBatch([{ topic: "%RETRY%G", body: "a" }]))).toBe("MESSAGE_ILLEGAL");
  });

  it("refuses a delay level with BATCH_DELAY_NOT_SUPPORTED", () => {
    expect(
      codeOf(() =>
        checkBatch([
          { topic: "T", body: "a" },
          { topic: "T", body: "b", delayTimeLevel: 1 },
        ]),
      ),
    ).toBe("BATCH_DELAY_NOT_SUPPORTED");
  });

  it("refuses a delivery time with BATCH_DELAY_NOT_SUPPORTED, even 0", () => {
    expect(codeOf(() => checkBatch([{ topic: "T", body: "a", deliverTimeMs: Date.now() + 60_000 }]))).toBe("BATCH_DELAY_NOT_SUPPORTED");
    expect(codeOf(() => checkBatch([{ topic: "T", body: "a", deliverTimeMs: 0 }]))).toBe("BATCH_DELAY_NOT_SUPPORTED");
  });

  it("accepts delayTimeLevel 0 (no delay)", () => {
    expect(codeOf(() => checkBatch([{ topic: "T", body: "a", delayTimeLevel: 0 }]))).toBe("NO_ERROR");
  });

  it("refuses bodies totalling over 4 MiB with MESSAGE_BODY_TOO_LARGE and accepts exactly 4 MiB", () => {
    expect(Limits.maxBatchBodyBytes).toBe(4 * MiB);
    expect(codeOf(() => checkBatch([sized(2 * MiB), sized(2 * MiB)]))).toBe("NO_ERROR");
    expect(codeOf(() => checkBatch([sized(2 * MiB), sized(2 * MiB), sized(1)]))).toBe("MESSAGE_BODY_TOO_LARGE");
    expect(codeOf(() => checkBatch([sized(4 * MiB + 1)]))).toBe("MESSAGE_BODY_TOO_LARGE");
    expect(codeOf(() => checkBatch(Array.from({ length: 5 }, () => sized(MiB))))).toBe("MESSAGE_BODY_TOO_LARGE");
  });

  it("refuses more than 1024 messages with VALIDATION_FAILED and accepts exactly 1024", () => {
    expect(codeOf(() => checkBatch(Array.from({ length: 1024 }, () => sized(1))))).toBe("NO_ERROR");
    expect(codeOf(() => checkBatch(Array.from({ length: 1025 }, () => sized(1))))).toBe("VALIDATION_FAILED");
  });
});
