/** The RPC error bridge: a coded refusal survives the trip through an object's RPC, anything else is a retriable outage. */
import { describe, expect, it } from "vitest";
import { ErrorCodes, isMQError, MQError, type ErrorCode } from "../protocol/errors.js";
import { decodeRpcError, fromRpcError, isUnansweredRpc, toRpcError } from "./rpc-errors.js";

const ALL_CODES = Object.keys(ErrorCodes) as ErrorCode[];

describe("toRpcError / fromRpcError", () => {
  it.each(ALL_CODES)("round-trips %s", (code) => {
    const e = fromRpcError(toRpcError(code, "first line\nsecond [line]"));
    expect(isMQError(e)).toBe(true);
    expect(e.code).toBe(code);
    expect(e.message).toBe("first line\nsecond [line]");
    expect(e.status).toBe(ErrorCodes[code]);
  });

  it("round-trips an empty message", () => {
    const e = fromRpcError(toRpcError("TOPIC_NOT_EXIST", ""));
    expect(e.code).toBe("TOPIC_NOT_EXIST");
    expect(e.message).toBe("");
  });

  it("formats as [CODE] message", () => {
    const e = toRpcError("OFFSET_ILLEGAL", "bad offset");
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe("[OFFSET_ILLEGAL] bad offset");
  });

  it("passes an MQError through unchanged", () => {
    const original = new MQError("NO_PERMISSION", "x");
    expect(fromRpcError(original)).toBe(original);
  });

  it("reads a thrown string too", () => {
    const e = fromRpcError("[MESSAGE_NOT_FOUND] gone");
    expect(e.code).toBe("MESSAGE_NOT_FOUND");
    expect(e.message).toBe("gone");
  });

  it("turns other failures into SERVICE_UNAVAILABLE with the cause kept", () => {
    for (const thrown of [new Error("[NOT_A_CODE] x"), new Error("disk on fire"), new Error(" [TIMEOUT] x"), "plain", 42, null]) {
      const e = fromRpcError(thrown);
      expect(e.code, String(thrown)).toBe("SERVICE_UNAVAILABLE");
      expect(e.retriable).toBe(true);
      expect(e.cause).toBe(thrown);
      expect(e.message).toBe("storage call failed");
    }
  });

  it("names an overloaded object", () => {
    const overloaded = Object.assign(new Error("Durable Object is overloaded."), { overloaded: true });
    const e = fromRpcError(overloaded);
    expect(e.code).toBe("SERVICE_UNAVAILABLE");
    expect(e.message).toBe("queue object overloaded");
    expect(e.cause).toBe(overloaded);
  });
});

describe("decodeRpcError / isUnansweredRpc", () => {
  it("reads the code of a coded refusal, of an MQError and of a thrown string", () => {
    expect(decodeRpcError(toRpcError("TRANSACTION_ALREADY_COMMITTED", "done"))).toEqual({ code: "TRANSACTION_ALREADY_COMMITTED", message: "done" });
    expect(decodeRpcError(new MQError("NO_PERMISSION", "x"))).toEqual({ code: "NO_PERMISSION", message: "x" });
    expect(decodeRpcError("[MESSAGE_NOT_FOUND] gone")).toEqual({ code: "MESSAGE_NOT_FOUND", message: "gone" });
  });

  it("reads no code from a failure that only mentions one", () => {
    for (const thrown of [new Error("x [TRANSACTION_ALREADY_COMMITTED] y"), new Error("[NOT_A_CODE] x"), "plain", null]) {
      expect(decodeRpcError(thrown), String(thrown)).toBeNull();
    }
  });

  it("counts only uncoded failures as unanswered", () => {
    expect(isUnansweredRpc(toRpcError("NOT_QUEUE_OWNER", "x"))).toBe(false);
    expect(isUnansweredRpc(new MQError("NO_PERMISSION", "x"))).toBe(false);
    expect(isUnansweredRpc(new Error("Network connection lost."))).toBe(true);
    expect(isUnansweredRpc(new Error("[NOT_A_CODE] x"))).toBe(true);
  });
});
