/** A publish's body and properties turned into the native send: kinds of send, and refusals. */
import { describe, expect, it } from "vitest";
import { AliyunError } from "./errors.js";
import { formatProperties, parseProperties } from "./properties.js";
import { readPublish, toSend } from "./publish.js";
import { parseXml } from "./xml.js";

const NOW = 1_800_000_000_000;

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AliyunError) return e.code;
    throw e;
  }
  return "NO_ERROR";
}

describe("properties", () => {
  it("reads Node's and Java's forms and writes what an SDK reads back", () => {
    expect(parseProperties("a:1|KEYS:K1")).toEqual({ a: "1", KEYS: "K1" });
    expect(parseProperties("a:1|b:2|")).toEqual({ a: "1", b: "2" });
    expect(parseProperties("")).toEqual({});
    expect(parseProperties("a:b:c")).toBeNull();
    expect(parseProperties("bad")).toBeNull();
    expect(parseProperties("a:")).toBeNull();
    expect(parseProperties("a:<b>")).toBeNull();
    expect(formatProperties({ a: "1", "x|y": "2", c: "q:r", d: "" })).toBe("a:1");
  });
});

describe("toSend", () => {
  it("a plain message keeps its tag, keys and properties", () => {
    const input = readPublish(parseXml("<Message><MessageBody>hi</MessageBody><MessageTag>T</MessageTag><Properties>a:1|KEYS:K1 K2</Properties></Message>"));
    expect(toSend(input, "Topic", NOW)).toEqual({
      request: { messages: [{ body: "hi", bodyEncoding: "utf8", tags: "T", keys: ["K1", "K2"], properties: { a: "1" } }] },
    });
  });

  it("__SHARDINGKEY is an ordered send, __STARTDELIVERTIME a timer message unless already due", () => {
    const sharded = toSend({ body: "b", tag: "", properties: { __SHARDINGKEY: "k0" } }, "T", NOW);
    expect(sharded.shardingKey).toBe("k0");
    expect(sharded.request.messages[0]!.properties).toEqual({ __SHARDINGKEY: "k0" });
    const timed = toSend({ body: "b", tag: "", properties: { __STARTDELIVERTIME: String(NOW + 5000) } }, "T", NOW);
    expect(timed.request.messages[0]!.deliverTimeMs).toBe(NOW + 5000);
    const due = toSend({ body: "b", tag: "", properties: { __STARTDELIVERTIME: String(NOW - 1) } }, "T", NOW);
    expect(due.request.messages[0]!.deliverTimeMs).toBeUndefined();
    expect(code(() => toSend({ body: "b", tag: "", properties: { __STARTDELIVERTIME: "soon" } }, "T", NOW))).toBe("InvalidArgument");
  });

  it("__TransCheckT is a half message of the topic's transaction group, first checked after it", () => {
    const tx = toSend({ body: "b", tag: "", properties: { __TransCheckT: "10", a: "1" } }, "T", NOW);
    expect(tx.transCheckSeconds).toBe(10);
    expect(tx.request.transaction).toEqual({ producerGroup: "%TX%T" });
    expect(tx.request.messages[0]!.properties).toEqual({ __TransCheckT: "10", a: "1", CHECK_IMMUNITY_TIME_IN_SECONDS: "10" });
    for (const bad of ["9", "301", "x"])
      expect(code(() => toSend({ body: "b", tag: "", properties: { __TransCheckT: bad } }, "T", NOW))).toBe("InvalidArgument");
  });

  it("refuses a document that is not a message with a body", () => {
    expect(code(() => readPublish(parseXml("<Other><MessageBody>x</MessageBody></Other>")))).toBe("InvalidArgument");
    expect(code(() => readPublish(parseXml("<Message><MessageTag>x</MessageTag></Message>")))).toBe("InvalidArgument");
    expect(code(() => readPublish(parseXml("<Message><MessageBody>x</MessageBody><Properties>a|b</Properties></Message>")))).toBe("InvalidArgument");
  });
});
