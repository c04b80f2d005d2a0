import { describe, expect, it } from "vitest";
import { isMQError } from "./errors.js";
import { Limits } from "./limits.js";
import { AUTO_CREATE_TOPIC_KEY, checkGroupName, checkTopicName, checkUserTopic, DLQ_PREFIX, isSystemTopic, isValidBrokerName, RETRY_PREFIX } from "./names.js";

/** The MQError code `fn` throws, or "NO_ERROR" when it returns normally. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isMQError(e) ? e.code : `NOT_MQERROR:${String(e)}`;
  }
  return "NO_ERROR";
}

const SYSTEM_TOPICS = [
  "%RETRY%x",
  "%DLQ%x",
  "RMQ_SYS_X",
  "rmq_sys_x",
  "Rmq_Sys_Trace",
  "TBW102",
  "SCHEDULE_TOPIC_XXXX",
  "BenchmarkTest",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRACE_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
];

const ILLEGAL_CHARACTER_TOPICS = ["a b", "a.b", "a/b", "a:b", "a*", "a#b", "a\tb", "主题", "topic\u0000", "é", "a+b", "a,b"];

describe("constants", () => {
  it("match RocketMQ", () => {
    expect(RETRY_PREFIX).toBe("%RETRY%");
    expect(DLQ_PREFIX).toBe("%DLQ%");
    expect(AUTO_CREATE_TOPIC_KEY).toBe("TBW102");
    expect(Limits.maxTopicLength).toBe(127);
    expect(Limits.maxGroupLength).toBe(255);
  });
});

describe("checkTopicName", () => {
  it.each(["a", "TopicTest", "topic-1_2", "a|b", "%RETRY%group", "0123456789", "A-Z_a-z|%"])("accepts legal name %j", (topic) => {
    expect(codeOf(() => checkTopicName(topic))).toBe("NO_ERROR");
  });

  it("accepts 127 characters and refuses 128", () => {
    expect(codeOf(() => checkTopicName("t".repeat(127)))).toBe("NO_ERROR");
    expect(codeOf(() => checkTopicName("t".repeat(128)))).toBe("INVALID_TOPIC_NAME");
    expect(codeOf(() => checkTopicName("t".repeat(1000)))).toBe("INVALID_TOPIC_NAME");
  });

  it("refuses blank names and names with surrounding whitespace", () => {
    for (const topic of ["", " ", "  ", " a", "a ", "\ta", "a\n"]) {
      expect(
        codeOf(() => checkTopicName(topic)),
        JSON.stringify(topic),
      ).toBe("INVALID_TOPIC_NAME");
    }
  });

  it.each(ILLEGAL_CHARACTER_TOPICS)("refuses characters outside ^[%%|a-zA-Z0-9_-]+$ in %j", (topic) => {
    expect(codeOf(() => checkTopicName(topic))).toBe("INVALID_TOPIC_NAME");
  });

  it("refuses with a 400 MQError", () => {
    try {
      checkTopicName("a b");
      expect.unreachable();
    } catch (e) {
      expect(isMQError(e) && e.status).toBe(400);
      expect(isMQError(e) && e.retriable).toBe(false);
    }
  });

  it("does not refuse system topics (only checkUserTopic does)", () => {
    for (const topic of SYSTEM_TOPICS)
      expect(
        codeOf(() => checkTopicName(topic)),
        topic,
      ).toBe("NO_ERROR");
  });
});

describe("isSystemTopic / checkUserTopic", () => {
  it.each(SYSTEM_TOPICS)("%s is a system topic refused with SYSTEM_TOPIC_FORBIDDEN", (topic) => {
    expect(isSystemTopic(topic)).toBe(true);
    expect(codeOf(() => checkUserTopic(topic))).toBe("SYSTEM_TOPIC_FORBIDDEN");
  });

  it.each(["TopicTest", "tbw102", "TBW1020", "XTBW102", "RMQ_SYSX", "MY_RMQ_SYS_X", "RETRY%x", "DLQ%x", "%RETRY", "schedule_topic_xxxx"])(
    "%s is a user topic",
    (topic) => {
      expect(isSystemTopic(topic)).toBe(false);
      expect(codeOf(() => checkUserTopic(topic))).toBe("NO_ERROR");
    },
  );

  it("refuses reserved names passed by the caller", () => {
    expect(isSystemTopic("Reserved", ["Reserved"])).toBe(true);
    expect(isSystemTopic("Reserved", [])).toBe(false);
    expect(isSystemTopic("reserved", ["Reserved"])).toBe(false);
    expect(codeOf(() => checkUserTopic("Reserved", ["Other", "Reserved"]))).toBe("SYSTEM_TOPIC_FORBIDDEN");
    expect(codeOf(() => checkUserTopic("Reserved", ["Other"]))).toBe("NO_ERROR");
  });

  it("checks the name before the reservation", () => {
    expect(codeOf(() => checkUserTopic("%RETRY% x"))).toBe("INVALID_TOPIC_NAME");
    expect(codeOf(() => checkUserTopic("RMQ_SYS_" + "x".repeat(120)))).toBe("INVALID_TOPIC_NAME");
    expect(codeOf(() => checkUserTopic(""))).toBe("INVALID_TOPIC_NAME");
    expect(codeOf(() => checkUserTopic("a.b", ["a.b"]))).toBe("INVALID_TOPIC_NAME");
  });

  it("SYSTEM_TOPIC_FORBIDDEN is a non-retriable 403", () => {
    try {
      checkUserTopic("TBW102");
      expect.unreachable();
    } catch (e) {
      expect(isMQError(e) && e.status).toBe(403);
      expect(isMQError(e) && e.retriable).toBe(false);
    }
  });
});

describe("checkGroupName", () => {
  it("accepts 255 characters and refuses 256", () => {
    expect(codeOf(() => checkGroupName("g".repeat(255)))).toBe("NO_ERROR");
    expect(codeOf(() => checkGroupName("g".repeat(256)))).toBe("INVALID_GROUP_NAME");
  });

  it.each(["g", "please_rename_unique_group_name", "group-1", "a|b%c"])("accepts %j", (group) => {
    expect(codeOf(() => checkGroupName(group))).toBe("NO_ERROR");
  });

  it.each(["", " ", "a b", " a", "a.b", "组", "a/b"])("refuses %j with INVALID_GROUP_NAME", (group) => {
    expect(codeOf(() => checkGroupName(group))).toBe("INVALID_GROUP_NAME");
  });
});

describe("isValidBrokerName", () => {
  it("accepts 1 to 64 characters of [a-zA-Z0-9_-]", () => {
    expect(isValidBrokerName("broker-a")).toBe(true);
    expect(isValidBrokerName("b")).toBe(true);
    expect(isValidBrokerName("B_0-z")).toBe(true);
    expect(isValidBrokerName("b".repeat(64))).toBe(true);
  });

  it("refuses empty, too long and URL-unsafe names", () => {
    expect(isValidBrokerName("")).toBe(false);
    expect(isValidBrokerName("b".repeat(65))).toBe(false);
    expect(isValidBrokerName("a|b")).toBe(false);
    expect(isValidBrokerName("a%b")).toBe(false);
    expect(isValidBrokerName("a/b")).toBe(false);
    expect(isValidBrokerName("a b")).toBe(false);
  });
});
