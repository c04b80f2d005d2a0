import { describe, expect, it } from "vitest";
import type { MessageExtWire } from "../protocol/message.js";
import { bodyText, fromWireMessage, normaliseKeys, toWireMessage } from "./message.js";

describe("normaliseKeys", () => {
  it("splits a string on spaces and drops empty keys", () => {
    expect(normaliseKeys(undefined)).toEqual([]);
    expect(normaliseKeys("")).toEqual([]);
    expect(normaliseKeys("a")).toEqual(["a"]);
    expect(normaliseKeys("a  b c ")).toEqual(["a", "b", "c"]);
    expect(normaliseKeys(["a", "", "b"])).toEqual(["a", "b"]);
  });
});

describe("toWireMessage", () => {
  it("sends a string body as utf8 and leaves unset fields out", () => {
    expect(toWireMessage({ topic: "T", body: "héllo" }, "ID", 5)).toEqual({
      body: "héllo",
      bodyEncoding: "utf8",
      msgId: "ID",
      bornTimestamp: 5,
    });
  });

  it("sends bytes as base64 and copies tags, keys, properties and flag", () => {
    const wire = toWireMessage({ topic: "T", body: Uint8Array.from([0, 255, 1]), tags: "TagA", keys: "k1 k2", properties: { a: "b" }, flag: 0 }, "ID", 7);
    expect(wire).toEqual({ body: "AP8B", msgId: "ID", bornTimestamp: 7, tags: "TagA", keys: ["k1", "k2"], properties: { a: "b" }, flag: 0 });
  });

  it("leaves out empty tags, keys and properties", () => {
    expect(toWireMessage({ topic: "T", body: "x", tags: "", keys: [], properties: {} }, "ID", 1)).toEqual({
      body: "x",
      bodyEncoding: "utf8",
      msgId: "ID",
      bornTimestamp: 1,
    });
  });
});

describe("fromWireMessage / bodyText", () => {
  const wire: MessageExtWire = {
    topic: "T",
    brokerName: "broker-a",
    queueId: 1,
    queueOffset: 9,
    msgId: "ID",
    offsetMsgId: "OFF",
    tags: "TagA",
    keys: ["k"],
    properties: { a: "b" },
    bornTimestamp: 1,
    bornHost: "h",
    storeTimestamp: 2,
    reconsumeTimes: 0,
    flag: 0,
    body: "aMOpbGxv",
  };

  it("decodes the base64 body and keeps every other field", () => {
    const m = fromWireMessage(wire);
    expect(Array.from(m.body)).toEqual(Array.from(new TextEncoder().encode("héllo")));
    expect(bodyText(m)).toBe("héllo");
    const { body: _b, ...rest } = m;
    const { body: _w, ...expected } = wire;
    expect(rest).toEqual(expected);
  });

  it("gives an empty body for a body that is not base64", () => {
    expect(fromWireMessage({ ...wire, body: "@@@" }).body.length).toBe(0);
  });

  it("keeps a body that came as bytes (a framed answer) as it is", () => {
    const body = new Uint8Array([0, 255, 7]);
    expect(fromWireMessage({ ...wire, body }).body).toBe(body);
  });
});
