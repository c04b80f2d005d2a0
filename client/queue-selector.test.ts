import { describe, expect, it } from "vitest";
import type { MessageQueue } from "../protocol/message.js";
import type { Message } from "./message.js";
import { javaStringHash, selectMessageQueueByHash } from "./queue-selector.js";

/** Java's String.hashCode computed independently with BigInt: h = 31 * h + c over UTF-16 units, as a 32-bit int. */
function referenceHash(text: string): number {
  let h = 0n;
  for (let i = 0; i < text.length; i++) h = BigInt.asIntN(32, 31n * h + BigInt(text.charCodeAt(i)));
  return Number(h);
}

/** RocketMQ's SelectMessageQueueByHash: value = hash % size (Java remainder); if negative, Math.abs. */
function referenceIndex(key: string, size: number): number {
  const value = Number(BigInt(referenceHash(key)) % BigInt(size));
  return value < 0 ? -value : value;
}

function queues(n: number, brokers = ["broker-a"]): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const brokerName of brokers) for (let queueId = 0; queueId < n; queueId++) out.push({ topic: "T", brokerName, queueId });
  return out;
}

const MSG: Message = { topic: "T", body: "x" };

describe("javaStringHash", () => {
  it.each([
    ["", 0],
    ["a", 97],
    ["Aa", 2112],
    ["BB", 2112],
    ["hello", 99162322],
    ["hello world", 1794106052],
    // Longer strings overflow 32 bits: Java gives a negative int.
    ["order-A", -1207111294],
    ["order-B", -1207111293],
    ["OrderId-1001", -1636024636],
    ["TopicTest", -1902610879],
    ["zzzzzz", -685785664],
    // The one famous string whose hash is Integer.MIN_VALUE.
    ["polygenelubricants", -2147483648],
    // Non-ASCII: Java hashes UTF-16 code units.
    ["é", 233],
    ["😀", 1772899],
  ])("hash(%j) = %i as in Java", (text, expected) => {
    expect(javaStringHash(text)).toBe(expected);
    expect(referenceHash(text)).toBe(expected);
  });

  it("follows h = 31 * h + c with 32-bit overflow for arbitrary strings", () => {
    const samples: string[] = [];
    for (let i = 0; i < 500; i++) samples.push(`order-${i * 7919}-${String.fromCharCode(65 + (i % 26))}${"x".repeat(i % 40)}`);
    for (const s of samples) {
      const h = javaStringHash(s);
      expect(h).toBe(referenceHash(s));
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(-2147483648);
      expect(h).toBeLessThanOrEqual(2147483647);
    }
  });
});

describe("selectMessageQueueByHash", () => {
  it("picks |hash % n| as RocketMQ does for known keys", () => {
    const four = queues(4);
    expect(selectMessageQueueByHash(four, MSG, "a")).toEqual(four[1]); // 97 % 4 = 1
    expect(selectMessageQueueByHash(four, MSG, "hello")).toEqual(four[2]); // 99162322 % 4 = 2
    expect(selectMessageQueueByHash(four, MSG, "")).toEqual(four[0]);
    expect(selectMessageQueueByHash(four, MSG, "order-A")).toEqual(four[2]); // -1207111294 % 4 = -2
    expect(selectMessageQueueByHash(four, MSG, "order-B")).toEqual(four[1]); // -1207111293 % 4 = -1
    const eight = queues(8);
    expect(selectMessageQueueByHash(eight, MSG, "order-A")).toEqual(eight[6]);
    expect(selectMessageQueueByHash(eight, MSG, "TopicTest")).toEqual(eight[7]);
    const three = queues(3);
    expect(selectMessageQueueByHash(three, MSG, "order-B")).toEqual(three[0]);
    expect(selectMessageQueueByHash(three, MSG, "OrderId-1001")).toEqual(three[1]);
  });

  it("handles the Integer.MIN_VALUE hash without going out of range", () => {
    expect(selectMessageQueueByHash(queues(4), MSG, "polygenelubricants")).toEqual(queues(4)[0]);
    expect(selectMessageQueueByHash(queues(3), MSG, "polygenelubricants")).toEqual(queues(3)[2]);
    expect(selectMessageQueueByHash(queues(7), MSG, "polygenelubricants")).toEqual(queues(7)[referenceIndex("polygenelubricants", 7)]);
  });

  it("stays within range and matches the reference for many keys, including negative hashes", () => {
    let negatives = 0;
    for (const n of [1, 2, 3, 4, 5, 8, 16, 31, 1024]) {
      const mqs = queues(n);
      for (let i = 0; i < 300; i++) {
        const key = `key-${i}-${"abc".repeat(i % 9)}`;
        if (javaStringHash(key) < 0) negatives++;
        const mq = selectMessageQueueByHash(mqs, MSG, key);
        expect(mq).toBeDefined();
        expect(mqs).toContain(mq);
        expect(mq).toBe(mqs[referenceIndex(key, n)]);
      }
    }
    expect(negatives).toBeGreaterThan(100);
  });

  it("is stable: the same key always maps to the same queue, whatever the message", () => {
    const mqs = queues(4, ["broker-a", "broker-b"]);
    for (const key of ["order-A", "order-B", "polygenelubricants", "42"]) {
      const first = selectMessageQueueByHash(mqs, MSG, key);
      for (let i = 0; i < 20; i++) {
        expect(selectMessageQueueByHash(mqs, { topic: "T", body: `m${i}`, tags: `t${i}` }, key)).toBe(first);
      }
    }
  });

  it("hashes a non-string argument through String(arg)", () => {
    const mqs = queues(8);
    expect(selectMessageQueueByHash(mqs, MSG, 1001)).toBe(selectMessageQueueByHash(mqs, MSG, "1001"));
    expect(selectMessageQueueByHash(mqs, MSG, 1001)).toBe(mqs[referenceIndex("1001", 8)]);
  });

  it("spreads distinct keys over every queue", () => {
    const mqs = queues(8);
    const hit = new Set<number>();
    for (let i = 0; i < 200; i++) hit.add(selectMessageQueueByHash(mqs, MSG, `order-${i}`).queueId);
    expect([...hit].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
