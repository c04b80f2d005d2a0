import { describe, expect, it } from "vitest";
import { MQError } from "../../protocol/errors.js";
import {
  bodyPreview,
  byKey,
  decodeBody,
  errorText,
  fmtAgo,
  fmtBytes,
  fmtInt,
  fmtTime,
  isSystemTopic,
  localTimeMs,
  permText,
  plural,
  toLocalInput,
} from "./format.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("numbers, sizes and words", () => {
  it("writes integers with separators and a dash for no number", () => {
    expect([fmtInt(0), fmtInt(1234567), fmtInt(-5), fmtInt(undefined), fmtInt(null), fmtInt(Number.NaN), fmtInt(Infinity)]).toEqual([
      "0",
      "1,234,567",
      "-5",
      "—",
      "—",
      "—",
      "—",
    ]);
  });

  it("writes sizes in binary units", () => {
    expect([fmtBytes(0), fmtBytes(1023), fmtBytes(1024), fmtBytes(1536), fmtBytes(5 * 1048576), fmtBytes(3 * 1073741824), fmtBytes(undefined)]).toEqual([
      "0 B",
      "1023 B",
      "1.0 KiB",
      "1.5 KiB",
      "5.0 MiB",
      "3.00 GiB",
      "—",
    ]);
  });

  it("puts words in the plural except for one", () => {
    expect([plural(0, "queue"), plural(1, "queue"), plural(2, "queue")]).toEqual(["0 queues", "1 queue", "2 queues"]);
  });

  it("writes permission bits as RocketMQ does", () => {
    expect([permText(6), permText(4), permText(2), permText(0), permText(7)]).toEqual(["RW", "R-", "-W", "--", "RW"]);
  });

  it("tells retry, dead-letter and system topics from user topics", () => {
    expect(["%RETRY%g", "%DLQ%g", "RMQ_SYS_TRANS_HALF_TOPIC", "TopicTest", "My%RETRY%"].map(isSystemTopic)).toEqual([true, true, true, false, false]);
  });

  it("sorts by a string key", () => {
    expect([{ n: "b" }, { n: "a" }, { n: "c" }, { n: "a" }].sort(byKey((x) => x.n)).map((x) => x.n)).toEqual(["a", "a", "b", "c"]);
  });
});

describe("times", () => {
  const at = new Date(2024, 0, 2, 3, 4, 5).getTime();

  it("writes a local time to the second, and a dash for none", () => {
    expect(fmtTime(at)).toBe("2024-01-02 03:04:05");
    expect([fmtTime(0), fmtTime(-1), fmtTime(null), fmtTime(undefined)]).toEqual(["—", "—", "—", "—"]);
  });

  it("writes how long ago in seconds, minutes or hours, then the time itself", () => {
    expect(fmtAgo(at, at + 12_400)).toBe("12 s ago");
    expect(fmtAgo(at, at + 59_400)).toBe("59 s ago");
    expect(fmtAgo(at, at + 60_000)).toBe("1 min ago");
    expect(fmtAgo(at, at + 3 * 3600_000 - 1000)).toBe("3 h ago");
    expect(fmtAgo(at, at + 86_400_000)).toBe("2024-01-02 03:04:05");
    expect(fmtAgo(0, at)).toBe("—");
  });

  it("reads and writes a datetime-local input's value in local time", () => {
    expect(toLocalInput(at)).toBe("2024-01-02T03:04:05");
    expect(localTimeMs("2024-01-02T03:04:05")).toBe(at);
    expect(localTimeMs("")).toBeNull();
    expect(localTimeMs("not a time")).toBeNull();
  });
});

describe("message bodies", () => {
  it("decodes UTF-8 and keeps base64 for binary bodies", () => {
    expect(decodeBody(utf8("grüße ✓"))).toEqual({ text: "grüße ✓", size: 11, base64: "Z3LDvMOfZSDinJM=" });
    expect(decodeBody(new Uint8Array([0xff, 0x00, 0xfe]))).toEqual({ text: null, size: 3, base64: "/wD+" });
    expect(decodeBody(new Uint8Array())).toEqual({ text: "", size: 0, base64: "" });
  });

  it("previews at most max characters, and names a binary body's size", () => {
    expect(bodyPreview(utf8("hello dashboard"), 5)).toBe("hello…");
    expect(bodyPreview(utf8("hello"), 5)).toBe("hello");
    expect(bodyPreview(new Uint8Array([0xc3]), 5)).toBe("(binary, 1 bytes)");
  });
});

describe("errorText", () => {
  it("puts an MQError's code first, with the request id when the server gave one", () => {
    expect(errorText(new MQError("TOPIC_NOT_EXIST", 'topic "x" does not exist'))).toBe('TOPIC_NOT_EXIST: topic "x" does not exist');
    expect(errorText(new MQError("ACCESS_DENIED", "no", { requestId: "r-1" }))).toBe("ACCESS_DENIED: no  (request r-1)");
  });

  it("recognises an MQError by its marker, not by class identity (another bundle's copy)", () => {
    const copy = Object.assign(new Error("gone"), { isMQError: true, code: "NOT_FOUND", requestId: undefined });
    expect(errorText(copy)).toBe("NOT_FOUND: gone");
  });

  it("writes other errors and values as their message", () => {
    expect(errorText(new TypeError("boom"))).toBe("boom");
    expect(errorText("plain")).toBe("plain");
  });
});
