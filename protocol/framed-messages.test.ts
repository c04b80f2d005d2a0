import { describe, expect, it } from "vitest";
import { acceptsFramed, decodeFramed, encodeFramed, FRAMED_MEDIA_TYPE } from "./framed-messages.js";

type Answer = { pullStatus: string; messages: { msgId: string; body: unknown }[] };

const bytes = (...values: number[]) => new Uint8Array(values);

function frame(head: unknown, tail: Uint8Array = new Uint8Array()): Uint8Array {
  const json = new TextEncoder().encode(typeof head === "string" ? head : JSON.stringify(head));
  const out = new Uint8Array(4 + json.length + tail.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  out.set(tail, 4 + json.length);
  return out;
}

describe("encodeFramed / decodeFramed", () => {
  it("round-trips a head and its bodies, empty and binary ones included", () => {
    const bodies = [bytes(0, 1, 2, 255), new Uint8Array(), new TextEncoder().encode("héllo ✓"), new Uint8Array(70_000).fill(7)];
    const head = {
      pullStatus: "FOUND",
      nextBeginOffset: 4,
      messages: bodies.map((b, i) => ({ msgId: `m${i}`, properties: { k: "ü\u0000" }, body: b.byteLength })),
    };
    const decoded = decodeFramed<Answer>(encodeFramed(head, bodies))!;
    expect(decoded.pullStatus).toBe("FOUND");
    expect(decoded.messages.map((m) => m.msgId)).toEqual(["m0", "m1", "m2", "m3"]);
    expect(decoded.messages.map((m) => Array.from(m.body))).toEqual(bodies.map((b) => Array.from(b)));
    expect((decoded as unknown as { messages: { properties: unknown }[] }).messages[0]!.properties).toEqual({ k: "ü\u0000" });
  });

  it("round-trips an answer without messages", () => {
    expect(decodeFramed<Answer>(encodeFramed({ messages: [] }, []))).toEqual({ messages: [] });
  });

  it("reads a frame that is a view into a larger buffer, each body a copy of its own bytes", () => {
    const inner = encodeFramed({ messages: [{ body: 2 }, { body: 1 }] }, [bytes(9, 8), bytes(7)]);
    const outer = new Uint8Array(inner.length + 6);
    outer.set(inner, 3);
    const [first, second] = decodeFramed<Answer>(outer.subarray(3, 3 + inner.length))!.messages;
    expect([Array.from(first!.body), Array.from(second!.body)]).toEqual([[9, 8], [7]]);
    expect(first!.body.buffer.byteLength).toBe(2); // not the whole answer
    outer.fill(0);
    expect(Array.from(first!.body)).toEqual([9, 8]);
  });

  it.each([
    ["shorter than its length prefix", bytes(0, 0)],
    ["a head longer than the frame", frame({ messages: [] }).subarray(0, 8)],
    ["a head that is not JSON", frame("{nope", new Uint8Array())],
    ["a head without messages", frame({ pullStatus: "FOUND" })],
    ["a head that is not an object", frame("null")],
    ["a body length that is not a number", frame({ messages: [{ body: "AAAA" }] }, bytes(0, 0, 0))],
    ["a negative body length", frame({ messages: [{ body: -1 }] })],
    ["a fractional body length", frame({ messages: [{ body: 1.5 }] }, bytes(1, 2))],
    ["bodies longer than what follows", frame({ messages: [{ body: 3 }] }, bytes(1, 2))],
    ["bytes left over after the bodies", frame({ messages: [{ body: 1 }] }, bytes(1, 2))],
    ["a message that is not an object", frame({ messages: [5] }, bytes(1))],
  ])("refuses %s", (_, framed) => {
    expect(decodeFramed(framed)).toBeUndefined();
  });
});

describe("acceptsFramed", () => {
  it("is asked for by the media type in Accept, and only by it", () => {
    expect(acceptsFramed(`${FRAMED_MEDIA_TYPE}, application/json`)).toBe(true);
    expect(acceptsFramed(FRAMED_MEDIA_TYPE)).toBe(true);
    expect(acceptsFramed("application/json")).toBe(false);
    expect(acceptsFramed("*/*")).toBe(false);
    expect(acceptsFramed(undefined)).toBe(false);
  });
});
