import { describe, expect, it } from "vitest";
import { ErrorCodes, errorFromBody, isErrorCode, isMQError, MQError, type ErrorCode } from "./errors.js";

const ALL_CODES = Object.keys(ErrorCodes) as ErrorCode[];
const RETRIABLE: ErrorCode[] = [
  "INTERNAL_ERROR",
  "SERVICE_UNAVAILABLE",
  "TIMEOUT",
  "NETWORK_ERROR",
  "TOO_MANY_WAITERS",
  "RATE_LIMITED",
  "REQUEST_STALE",
  "TOO_MANY_CHANNELS",
  "CHANNEL_EXPIRED",
];

describe("MQError", () => {
  it.each(ALL_CODES)("%s carries its status and retriable flag", (code) => {
    const e = new MQError(code, "msg");
    expect(e.code).toBe(code);
    expect(e.status).toBe(ErrorCodes[code]);
    expect(e.retriable).toBe(RETRIABLE.includes(code));
    expect(e.message).toBe("msg");
    expect(e.name).toBe("MQError");
    expect(e.isMQError).toBe(true);
    expect(e).toBeInstanceOf(Error);
    expect(e.requestId).toBeUndefined();
  });

  it("has the documented HTTP statuses", () => {
    expect(new MQError("VALIDATION_FAILED", "").status).toBe(400);
    expect(new MQError("NO_PERMISSION", "").status).toBe(403);
    expect(new MQError("SYSTEM_TOPIC_FORBIDDEN", "").status).toBe(403);
    expect(new MQError("TOPIC_NOT_EXIST", "").status).toBe(404);
    expect(new MQError("TOPIC_ALREADY_EXISTS", "").status).toBe(409);
    expect(new MQError("MESSAGE_BODY_TOO_LARGE", "").status).toBe(413);
    expect(new MQError("TOO_MANY_WAITERS", "").status).toBe(429);
    expect(new MQError("ABORTED", "").status).toBe(499);
    expect(new MQError("INTERNAL_ERROR", "").status).toBe(500);
    expect(new MQError("SERVICE_UNAVAILABLE", "").status).toBe(503);
    expect(new MQError("NETWORK_ERROR", "").status).toBe(503);
    expect(new MQError("TIMEOUT", "").status).toBe(504);
  });

  it("keeps requestId and cause", () => {
    const cause = new TypeError("boom");
    const e = new MQError("INTERNAL_ERROR", "m", { requestId: "req-1", cause });
    expect(e.requestId).toBe("req-1");
    expect(e.cause).toBe(cause);
    expect("cause" in new MQError("INTERNAL_ERROR", "m")).toBe(false);
  });

  it("serialises as { code, message, requestId? }", () => {
    expect(new MQError("TOPIC_NOT_EXIST", "no such topic").toJSON()).toEqual({ code: "TOPIC_NOT_EXIST", message: "no such topic" });
    expect(JSON.parse(JSON.stringify(new MQError("TIMEOUT", "late", { requestId: "r" })))).toEqual({
      code: "TIMEOUT",
      message: "late",
      requestId: "r",
    });
  });
});

describe("isMQError / isErrorCode", () => {
  it("recognises MQErrors by marker, not by class", () => {
    expect(isMQError(new MQError("BAD_REQUEST", "x"))).toBe(true);
    expect(isMQError({ isMQError: true, code: "BAD_REQUEST" })).toBe(true);
    expect(isMQError(new Error("x"))).toBe(false);
    expect(isMQError({ isMQError: "true" })).toBe(false);
    expect(isMQError(null)).toBe(false);
    expect(isMQError(undefined)).toBe(false);
    expect(isMQError("BAD_REQUEST")).toBe(false);
  });

  it("accepts exactly the defined codes", () => {
    for (const code of ALL_CODES) expect(isErrorCode(code)).toBe(true);
    expect(isErrorCode("topic_not_exist")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode("hasOwnProperty")).toBe(false);
    expect(isErrorCode("__proto__")).toBe(false);
    expect(isErrorCode("")).toBe(false);
    expect(isErrorCode(404)).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });
});

describe("errorFromBody", () => {
  it.each(ALL_CODES)("rebuilds a server body with code %s", (code) => {
    const e = errorFromBody(ErrorCodes[code], { code, message: "server said so", requestId: "req-9" });
    expect(isMQError(e)).toBe(true);
    expect(e.code).toBe(code);
    expect(e.status).toBe(ErrorCodes[code]);
    expect(e.retriable).toBe(RETRIABLE.includes(code));
    expect(e.message).toBe("server said so");
    expect(e.requestId).toBe("req-9");
  });

  it("takes the code from the body over the HTTP status", () => {
    const e = errorFromBody(500, { code: "TOPIC_NOT_EXIST", message: "m" });
    expect(e.code).toBe("TOPIC_NOT_EXIST");
    expect(e.status).toBe(404);
    expect(e.requestId).toBeUndefined();
  });

  it("uses the code as message when the body has none, and ignores a non-string requestId", () => {
    const e = errorFromBody(400, { code: "VALIDATION_FAILED", message: 42, requestId: 7 });
    expect(e.code).toBe("VALIDATION_FAILED");
    expect(e.message).toBe("VALIDATION_FAILED");
    expect(e.requestId).toBeUndefined();
  });

  it.each([
    [404, undefined, "NOT_FOUND"],
    [404, { error: "nope" }, "NOT_FOUND"],
    [500, null, "SERVICE_UNAVAILABLE"],
    [502, "Bad Gateway", "SERVICE_UNAVAILABLE"],
    [503, { code: "toString" }, "SERVICE_UNAVAILABLE"],
    [504, [], "SERVICE_UNAVAILABLE"],
    [400, { code: "NO_SUCH_CODE", message: "x" }, "BAD_REQUEST"],
    [413, undefined, "BAD_REQUEST"],
    [429, 17, "BAD_REQUEST"],
    [401, { code: 401 }, "BAD_REQUEST"],
  ] as const)("maps status %i with unknown body %j to %s", (status, body, code) => {
    const e = errorFromBody(status, body);
    expect(isMQError(e)).toBe(true);
    expect(e.code).toBe(code);
    expect(e.status).toBe(ErrorCodes[code]);
  });
});
