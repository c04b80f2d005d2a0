/**
 * Every malformed request gets a 4xx JSON error with a stable code and changes nothing.
 */
import { describe, expect } from "vitest";
import { Admin, Producer, PullConsumer, isMQError } from "../../client/index.js";
import { test, it } from "../fixture.js";
import { http, uniqueName } from "../helpers.js";

const topic = uniqueName("Bad");

test.beforeAll(async ({ admin, producer }) => {
  await admin.createTopic(topic, { queueNums: 2 });
  await producer.send({ topic, body: "keep me" }, { messageQueue: { topic, brokerName: "broker-a", queueId: 0 } });
});

const q0 = () => `/brokers/broker-a/topics/${topic}/queues/0`;
const big = (bytes: number) => "A".repeat(bytes);

interface Case {
  name: string;
  method: string;
  path: () => string;
  body?: unknown;
  rawBody?: string;
  status: number;
  code: string;
}

const cases: Case[] = [
  { name: "bad JSON on send", method: "POST", path: () => `${q0()}/messages`, rawBody: "{not json", status: 400, code: "INVALID_JSON" },
  { name: "send without messages", method: "POST", path: () => `${q0()}/messages`, body: {}, status: 400, code: "VALIDATION_FAILED" },
  { name: "wrongly typed body", method: "POST", path: () => `${q0()}/messages`, body: { messages: [{ body: 42 }] }, status: 400, code: "VALIDATION_FAILED" },
  {
    name: "unknown field",
    method: "POST",
    path: () => `${q0()}/messages`,
    body: { messages: [{ body: "eA==", bogus: 1 }] },
    status: 400,
    code: "VALIDATION_FAILED",
  },
  { name: "empty body", method: "POST", path: () => `${q0()}/messages`, body: { messages: [{ body: "" }] }, status: 400, code: "MESSAGE_ILLEGAL" },
  { name: "body not base64", method: "POST", path: () => `${q0()}/messages`, body: { messages: [{ body: "***" }] }, status: 400, code: "MESSAGE_ILLEGAL" },
  {
    name: "reserved property",
    method: "POST",
    path: () => `${q0()}/messages`,
    body: { messages: [{ body: "eA==", properties: { UNIQ_KEY: "x" } }] },
    status: 400,
    code: "VALIDATION_FAILED",
  },
  {
    name: "body over 4 MiB",
    method: "POST",
    path: () => `${q0()}/messages`,
    body: { messages: [{ body: big(4 * 1024 * 1024 + 1), bodyEncoding: "utf8" }] },
    status: 413,
    code: "MESSAGE_BODY_TOO_LARGE",
  },
  {
    name: "properties over 32 KiB",
    method: "POST",
    path: () => `${q0()}/messages`,
    body: { messages: [{ body: "eA==", properties: { big: big(32 * 1024) } }] },
    status: 413,
    code: "PROPERTIES_SIZE_EXCEEDED",
  },
  {
    // Bodies within their limits: a bigger body would be refused for the body limit instead.
    name: "request over 6 MiB",
    method: "POST",
    path: () => `${q0()}/messages`,
    rawBody: `{"messages":[{"body":"eA=="}]${" ".repeat(7 * 1024 * 1024)}}`,
    status: 413,
    code: "REQUEST_TOO_LARGE",
  },
  {
    name: "illegal topic name in URL",
    method: "POST",
    path: () => `/brokers/broker-a/topics/bad%20name/queues/0/messages`,
    body: { messages: [{ body: "eA==" }] },
    status: 400,
    code: "INVALID_TOPIC_NAME",
  },
  { name: "topic name too long", method: "PUT", path: () => `/namesrv/topics/${"T".repeat(128)}`, body: {}, status: 400, code: "INVALID_TOPIC_NAME" },
  { name: "create a system topic", method: "PUT", path: () => `/namesrv/topics/TBW102`, body: {}, status: 403, code: "SYSTEM_TOPIC_FORBIDDEN" },
  { name: "create a retry topic", method: "POST", path: () => `/namesrv/topics`, body: { topic: "%RETRY%g" }, status: 403, code: "SYSTEM_TOPIC_FORBIDDEN" },
  { name: "create RMQ_SYS_ topic", method: "PUT", path: () => `/namesrv/topics/RMQ_SYS_X`, body: {}, status: 403, code: "SYSTEM_TOPIC_FORBIDDEN" },
  {
    name: "send to a DLQ topic",
    method: "POST",
    path: () => `/brokers/broker-a/topics/%25DLQ%25g/queues/0/messages`,
    body: { messages: [{ body: "eA==" }] },
    status: 403,
    code: "SYSTEM_TOPIC_FORBIDDEN",
  },
  { name: "create an existing topic", method: "POST", path: () => `/namesrv/topics`, body: { topic }, status: 409, code: "TOPIC_ALREADY_EXISTS" },
  {
    name: "create on an unknown broker",
    method: "PUT",
    path: () => `/namesrv/topics/${uniqueName("X")}`,
    body: { brokers: ["broker-z"] },
    status: 400,
    code: "BROKER_NOT_EXIST",
  },
  { name: "zero queues", method: "PUT", path: () => `/namesrv/topics/${uniqueName("X")}`, body: { queueNums: 0 }, status: 400, code: "VALIDATION_FAILED" },
  {
    name: "queueId out of range",
    method: "POST",
    path: () => `/brokers/broker-a/topics/${topic}/queues/2/messages`,
    body: { messages: [{ body: "eA==" }] },
    status: 400,
    code: "QUEUE_ID_ILLEGAL",
  },
  {
    name: "queueId not a number",
    method: "GET",
    path: () => `/brokers/broker-a/topics/${topic}/queues/x/messages?offset=0`,
    status: 400,
    code: "QUEUE_ID_ILLEGAL",
  },
  {
    name: "negative queueId",
    method: "GET",
    path: () => `/brokers/broker-a/topics/${topic}/queues/-1/messages?offset=0`,
    status: 400,
    code: "QUEUE_ID_ILLEGAL",
  },
  { name: "negative offset", method: "GET", path: () => `${q0()}/messages?offset=-1`, status: 400, code: "OFFSET_ILLEGAL" },
  { name: "non-integer offset", method: "GET", path: () => `${q0()}/messages?offset=1.5`, status: 400, code: "OFFSET_ILLEGAL" },
  { name: "missing offset", method: "GET", path: () => `${q0()}/messages`, status: 400, code: "OFFSET_ILLEGAL" },
  { name: "maxNums over 32", method: "GET", path: () => `${q0()}/messages?offset=0&maxNums=33`, status: 400, code: "VALIDATION_FAILED" },
  { name: "maxWaitMs over 30 s", method: "GET", path: () => `${q0()}/messages?offset=0&maxWaitMs=30001`, status: 400, code: "VALIDATION_FAILED" },
  { name: "negative commit offset", method: "PUT", path: () => `${q0()}/groups/g1/offset`, body: { offset: -1 }, status: 400, code: "VALIDATION_FAILED" },
  { name: "fractional commit offset", method: "PUT", path: () => `${q0()}/groups/g1/offset`, body: { offset: 0.5 }, status: 400, code: "VALIDATION_FAILED" },
  { name: "commit beyond maxOffset", method: "PUT", path: () => `${q0()}/groups/g1/offset`, body: { offset: 99 }, status: 400, code: "OFFSET_ILLEGAL" },
  { name: "illegal group name", method: "PUT", path: () => `${q0()}/groups/bad%20group/offset`, body: { offset: 0 }, status: 400, code: "INVALID_GROUP_NAME" },
  { name: "unknown broker", method: "GET", path: () => `/brokers/broker-z/topics/${topic}/queues/0/messages?offset=0`, status: 400, code: "BROKER_NOT_EXIST" },
  {
    name: "pull of an unknown topic",
    method: "GET",
    path: () => `/brokers/broker-a/topics/${uniqueName("None")}/queues/0/messages?offset=0`,
    status: 404,
    code: "TOPIC_NOT_EXIST",
  },
  { name: "route of an unknown topic", method: "GET", path: () => `/namesrv/topics/${uniqueName("None")}/route`, status: 404, code: "TOPIC_NOT_EXIST" },
  { name: "search without timestamp", method: "GET", path: () => `${q0()}/offsets/search`, status: 400, code: "VALIDATION_FAILED" },
  { name: "malformed offsetMsgId", method: "GET", path: () => `/messages/%%%`, status: 400, code: "MESSAGE_ID_ILLEGAL" },
  ...heartbeatQueueCases(),
  { name: "unknown route", method: "GET", path: () => `/no/such/route`, status: 404, code: "NOT_FOUND" },
  { name: "wrong method", method: "DELETE", path: () => `${q0()}/messages`, status: 404, code: "NOT_FOUND" },
];

/** Item 10: the queues a heartbeat names (held or configured) obey the name and count limits. */
function heartbeatQueueCases(): Case[] {
  const mq = (over: Record<string, unknown> = {}) => ({ topic, brokerName: "broker-a", queueId: 0, ...over });
  const heartbeat = (extra: Record<string, unknown>) => ({
    clientId: "hb-caps",
    messageModel: "CLUSTERING",
    subscriptions: [{ topic, expressionType: "TAG", expression: "*" }],
    heartbeatIntervalMs: 1000,
    sessionTimeoutMs: 3000,
    ...extra,
  });
  const bad: [string, Record<string, unknown>][] = [
    ["held topic of 1 MiB", { heldQueues: [mq({ topic: big(1024 * 1024) })] }],
    ["held topic over 262 characters", { heldQueues: [mq({ topic: `%RETRY%${"g".repeat(256)}` })] }],
    ["held broker name over 64 characters", { heldQueues: [mq({ brokerName: "b".repeat(65) })] }],
    ["held topic outside the name alphabet", { heldQueues: [mq({ topic: "a b" })] }],
    ["held queueId past 1023", { heldQueues: [mq({ queueId: 1024 })] }],
    ["held queues over 16,384", { heldQueues: Array.from({ length: 16_385 }, (_, i) => mq({ queueId: i % 1024 })) }],
    ["configured topic of 1 MiB", { allocateStrategy: "CONFIG", configuredQueues: [mq({ topic: big(1024 * 1024) })] }],
    ["configured broker name over 64 characters", { allocateStrategy: "CONFIG", configuredQueues: [mq({ brokerName: "b".repeat(65) })] }],
  ];
  return bad.map(([what, extra]) => ({
    name: `item 10: heartbeat with ${what}`,
    method: "POST",
    path: () => `/groups/hb_caps_group/heartbeat`,
    body: heartbeat(extra),
    status: 400,
    code: "VALIDATION_FAILED",
  }));
}

describe("bad input", () => {
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async ({ server }) => {
      const init: { method: string; body?: unknown; rawBody?: string } = { method: c.method };
      if (c.body !== undefined) init.body = c.body;
      if (c.rawBody !== undefined) init.rawBody = c.rawBody;
      const res = await http(server.url + c.path(), init);
      expect({ status: res.status, code: res.body.code }).toEqual({ status: c.status, code: c.code });
      expect(typeof res.body.message).toBe("string");
      expect(typeof res.body.requestId).toBe("string");
    });
  }

  it("changed nothing", async ({ server, admin }) => {
    const topics = (await admin.listTopics()).map((t) => t.topic);
    expect(topics).toEqual([topic]);
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: "g1" });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    expect(await consumer.maxOffset(mq)).toBe(1);
    expect(await consumer.maxOffset({ ...mq, brokerName: "broker-b" })).toBe(0);
    // The group never committed: the fresh-queue rule answers 0.
    expect(await consumer.fetchConsumeOffset(mq)).toBe(0);
    const r = await consumer.pull(mq, "*", 0, 32, { maxWaitMs: 0 });
    expect(r.msgFoundList.length).toBe(1);
  });

  it("refuses a send to an unknown topic when auto-create is off", async ({ launchServer }) => {
    const strict = await launchServer({ vars: { AUTO_CREATE_TOPIC_ENABLE: "false" } });
    const name = uniqueName("NoAuto");
    const res = await http(`${strict.url}/brokers/broker-a/topics/${name}/queues/0/messages`, {
      method: "POST",
      body: { messages: [{ body: "eA==" }] },
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: "TOPIC_NOT_EXIST" });
    const producer = new Producer({ endpoint: strict.url, credentials: strict.credentials, group: "pg" });
    await producer.start();
    let code = "NO_ERROR";
    try {
      await producer.send({ topic: name, body: "x" });
    } catch (e) {
      code = isMQError(e) ? e.code : "OTHER";
    }
    expect(code).toBe("TOPIC_NOT_EXIST");
    expect((await new Admin({ endpoint: strict.url, credentials: strict.credentials }).listTopics()).length).toBe(0);
  });

  it("raises typed errors in the client before any request for bad names", async ({ server }) => {
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: "pg" });
    await producer.start();
    let code = "NO_ERROR";
    try {
      await producer.send({ topic: "bad name", body: "x" });
    } catch (e) {
      code = isMQError(e) ? e.code : "OTHER";
    }
    expect(code).toBe("INVALID_TOPIC_NAME");
  });
});
