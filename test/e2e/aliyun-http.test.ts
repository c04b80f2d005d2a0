/**
 * The Alibaba Cloud RocketMQ HTTP door (workers/aliyun/) driven by Alibaba Cloud's own Node SDK,
 * `@aliyunmq/mq-http-sdk`, unmodified, against a real server with accounts: publish (plain,
 * tagged, with properties and keys, timed), consume and ack, partial ack, tag filters, long-poll
 * wake-up, redelivery after NextConsumeTime, and the signature's refusals. The server's
 * invisible time is the SimpleConsumer's minimum (10 s, ALIYUN_INVISIBLE_MS), the shortest the
 * redelivery test can wait; orderly and transactional consumption are in aliyun-http-order-tx.test.ts.
 */
import { describe, expect } from "vitest";
import type { Admin } from "../../client/index.js";
import { APP, ROOT } from "../auth-helpers.js";
import { consumeCount, consumeOnce, MessageProperties, MQClient, sdkCode } from "../aliyun-sdk.js";
import { test, it } from "../fixture.js";
import { quietPeriod, uniqueName, waitFor } from "../helpers.js";

const INSTANCE = "MQ_INST_1973281269661160_Ba2DmovE";
const ACCOUNTS = [
  { ...ROOT, admin: true },
  { ...APP, topicPerms: { AliPub: "PUB" }, groupPerms: { GID_app: "SUB" } },
];

test.override("serverOptions", {
  vars: { FLAREMQ_ACCOUNTS: JSON.stringify(ACCOUNTS), ALIYUN_INVISIBLE_MS: "10000" },
  credentials: ROOT,
});

async function newTopic(admin: Admin, queueNums = 2): Promise<string> {
  const topic = uniqueName("ali");
  await admin.createTopic(topic, { queueNums, brokers: ["broker-a"] });
  return topic;
}

describe("publish, consume and ack", () => {
  it("publishes plain, tagged, keyed messages with properties, and consumes them with every field", async ({ server, admin }) => {
    const topic = await newTopic(admin);
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const producer = client.getProducer(INSTANCE, topic);
    const plain = await producer.publishMessage("plain body <&> 世界");
    expect(plain.code).toBe(201);
    expect(plain.body.MessageId).toMatch(/\S/);
    expect(plain.body.MessageBodyMD5).toMatch(/^[0-9A-F]{32}$/);
    expect(plain.body.ReceiptHandle).toBeUndefined();
    const props = new MessageProperties();
    props.putProperty("a", "1");
    props.messageKey("K1");
    const tagged = await producer.publishMessage("tagged", "TagA", props);
    expect(tagged.code).toBe(201);

    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));
    const got = await consumeCount(consumer, 2);
    expect(got.map((m) => m.MessageBody).sort()).toEqual(["plain body <&> 世界", "tagged"]);
    const t = got.find((m) => m.MessageBody === "tagged")!;
    expect(t.MessageId).toBe(tagged.body.MessageId);
    expect(t.MessageBodyMD5).toBe(tagged.body.MessageBodyMD5);
    expect(t.MessageTag).toBe("TagA");
    expect(t.MessageKey).toBe("K1");
    expect(t.Properties).toEqual({ a: "1" });
    expect(t.ConsumedTimes).toBe("1");
    expect(Number(t.NextConsumeTime) - Number(t.FirstConsumeTime)).toBe(10_000);
    expect(Number(t.PublishTime)).toBeLessThanOrEqual(Number(t.FirstConsumeTime));
    const p = got.find((m) => m.MessageBody !== "tagged")!;
    expect(p.MessageTag ?? "").toBe("");
    expect(p.MessageBodyMD5).toBe(plain.body.MessageBodyMD5);

    const acked = await consumer.ackMessage(got.map((m) => m.ReceiptHandle));
    expect(acked.code).toBe(204);
    // Acked: nothing comes back, even after the invisible time would have passed.
    expect(await consumeOnce(consumer, 16, 0)).toEqual([]);
  });

  it("answers a partial ack with the failed handles only, and applies the good ones", async ({ server, admin }) => {
    const topic = await newTopic(admin, 1);
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const producer = client.getProducer(INSTANCE, topic);
    await producer.publishMessage("one");
    await producer.publishMessage("two");
    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));
    const [m1, m2] = await consumeCount(consumer, 2);
    const first = await consumer.ackMessage([m1!.ReceiptHandle, "adfadfadfadf", "xxxxx"]);
    expect(first.code).toBe(404);
    expect(first.body).toEqual([
      { ErrorCode: "ReceiptHandleError", ErrorMessage: "The receipt handle you provide is not valid.", ReceiptHandle: "adfadfadfadf" },
      { ErrorCode: "ReceiptHandleError", ErrorMessage: "The receipt handle you provide is not valid.", ReceiptHandle: "xxxxx" },
    ]);
    // m1 was acked by that call: acking it again fails, m2 still succeeds.
    const again = await consumer.ackMessage([m1!.ReceiptHandle, m2!.ReceiptHandle]);
    expect(again.code).toBe(404);
    expect(again.body).toEqual([expect.objectContaining({ ErrorCode: "ReceiptHandleError", ReceiptHandle: m1!.ReceiptHandle })]);
  });

  it("filters by tag expression A||B", async ({ server, admin }) => {
    const topic = await newTopic(admin, 1);
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const producer = client.getProducer(INSTANCE, topic);
    for (const tag of ["A", "B", "C", ""]) await producer.publishMessage(`tag ${tag || "none"}`, tag);
    await producer.publishMessage("last A", "A");
    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"), "A||B");
    const got = await consumeCount(consumer, 3);
    expect(got.map((m) => m.MessageBody)).toEqual(["tag A", "tag B", "last A"]);
    expect(got.map((m) => m.MessageTag)).toEqual(["A", "B", "A"]);
    await consumer.ackMessage(got.map((m) => m.ReceiptHandle));
    expect(await consumeOnce(consumer, 16, 0)).toEqual([]);
  });

  it("wakes a long poll when a message is published", async ({ server, admin }) => {
    const topic = await newTopic(admin, 1);
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));
    expect(await consumeOnce(consumer, 1, 0)).toEqual([]); // the group exists and nothing is there
    const polling = consumer.consumeMessage(1, 25);
    await quietPeriod(1500); // the poll parks meanwhile; an answer now would be a bug
    await client.getProducer(INSTANCE, topic).publishMessage("wake up");
    const res = await polling;
    expect(res.code).toBe(200);
    expect(res.body.map((m) => m.MessageBody)).toEqual(["wake up"]);
  });

  it("keeps a timed message (__STARTDELIVERTIME) invisible until its time", async ({ server, admin }) => {
    const topic = await newTopic(admin, 1);
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const props = new MessageProperties();
    const deliverAt = Date.now() + 3000;
    props.startDeliverTime(deliverAt);
    expect((await client.getProducer(INSTANCE, topic).publishMessage("timed", "", props)).code).toBe(201);
    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));
    expect(await consumeOnce(consumer, 1, 0)).toEqual([]);
    const [m] = await consumeCount(consumer, 1);
    expect(m!.MessageBody).toBe("timed");
    expect(m!.StartDeliverTime).toBe(deliverAt);
    expect(Date.now()).toBeGreaterThanOrEqual(deliverAt);
  });

  it("redelivers a message not acked by NextConsumeTime with a new handle, and refuses the old one", async ({ server, admin }) => {
    const topic = await newTopic(admin, 1);
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    await client.getProducer(INSTANCE, topic).publishMessage("again");
    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));
    const [first] = await consumeCount(consumer, 1);
    // Not acked: visible again exactly at NextConsumeTime (10 s, the shortest invisible time).
    const second = await waitFor("the redelivery", async () => (await consumeOnce(consumer, 1, 3))[0], 30_000);
    expect(Number(second.FirstConsumeTime)).toBe(Number(first!.FirstConsumeTime));
    expect(Number(second.PublishTime)).toBe(Number(first!.PublishTime));
    expect(Date.now()).toBeGreaterThanOrEqual(Number(first!.NextConsumeTime));
    expect(second.MessageId).toBe(first!.MessageId);
    expect(second.ConsumedTimes).toBe("2");
    expect(second.ReceiptHandle).not.toBe(first!.ReceiptHandle);
    const old = await consumer.ackMessage([first!.ReceiptHandle]);
    expect(old.code).toBe(404);
    expect(old.body).toEqual([expect.objectContaining({ ErrorCode: "MessageNotExist", ReceiptHandle: first!.ReceiptHandle })]);
    expect((await consumer.ackMessage([second.ReceiptHandle])).code).toBe(204);
  });
});

describe("signature and rights", () => {
  it("refuses a wrong secret, an unknown key and an expired date with the protocol's codes", async ({ server, admin }) => {
    const topic = await newTopic(admin, 1);
    const wrong = new MQClient(server.url, ROOT.accessKey, "not-the-secret");
    expect(await sdkCode(wrong.getProducer(INSTANCE, topic).publishMessage("x"))).toBe("SignatureDoesNotMatch");
    const unknown = new MQClient(server.url, "nobody", ROOT.secretKey);
    expect(await sdkCode(unknown.getConsumer(INSTANCE, topic, "GID_x").consumeMessage(1))).toBe("InvalidAccessKeyId");

    // An expired Date, signed correctly by the SDK's own signing function.
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const resource = `/topics/${topic}/messages?consumer=GID_x&numOfMessages=1`;
    const headers: Record<string, string> = {
      date: new Date(Date.now() - 20 * 60_000).toUTCString(),
      "x-mq-version": "2015-06-06",
      "content-type": "text/xml;charset=utf-8",
    };
    headers.authorization = `MQ ${ROOT.accessKey}:${client.sign("GET", headers, resource)}`;
    const res = await fetch(server.url + resource, { headers });
    expect(res.status).toBe(408);
    expect(res.headers.get("content-type")).toMatch(/^text\/xml/);
    expect(res.headers.get("x-mq-request-id")).toMatch(/^[0-9A-F]{24}$/);
    const text = await res.text();
    expect(text).toContain("<Code>TimeExpired</Code>");
    expect(text).toMatch(/<RequestId>[0-9A-F]{24}<\/RequestId>/);

    const unsigned = await fetch(server.url + resource);
    expect(unsigned.status).toBe(400);
    expect(await unsigned.text()).toContain("<Code>MissingAuthorizationHeader</Code>");
    // The same path without the protocol's marks is still the native query by key.
    expect((await fetch(`${server.url}/topics/${topic}/messages?key=k`)).headers.get("content-type")).toMatch(/json/);
  });

  it("answers bad requests with the protocol's error document and codes", async ({ server, admin }) => {
    const topic = await newTopic(admin, 1);
    const client = new MQClient(server.url, ROOT.accessKey, ROOT.secretKey);
    const consumer = client.getConsumer(INSTANCE, topic, uniqueName("GID"));
    expect(await sdkCode(consumer.consumeMessage(17))).toBe("InvalidArgument");
    expect(await sdkCode(consumer.consumeMessage(1, 31))).toBe("InvalidArgument");
    expect(await sdkCode(client.getConsumer(INSTANCE, uniqueName("nope"), "GID_x").consumeMessage(1))).toBe("TopicNotExist");
    const props = new MessageProperties();
    props.transCheckImmunityTime(5);
    expect(await sdkCode(client.getTransProducer(INSTANCE, topic, "GID_tx").publishMessage("x", "", props))).toBe("InvalidArgument");

    // Raw requests, signed by the SDK's own signing function.
    const send = async (method: string, resource: string, body?: string) => {
      const headers: Record<string, string> = { date: new Date().toUTCString(), "x-mq-version": "2015-06-06", "content-type": "text/xml;charset=utf-8" };
      headers.authorization = `MQ ${ROOT.accessKey}:${client.sign(method, headers, resource)}`;
      const res = await fetch(server.url + resource, { method, headers, ...(body === undefined ? {} : { body }) });
      return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
    };
    const malformed = await send("POST", `/topics/${topic}/messages`, "<Message><MessageBody>a & b</MessageBody></Message>");
    expect(malformed.status).toBe(400);
    expect(malformed.type).toMatch(/^text\/xml/);
    expect(malformed.text).toContain("<Code>MalformedXML</Code>");
    expect(malformed.text).toContain(`<HostId>${server.url}</HostId>`);
    const badTrans = await send("GET", `/topics/${topic}/messages?consumer=GID_x&numOfMessages=1&trans=bogus`);
    expect([badTrans.status, badTrans.text.includes("<Code>InvalidQueryString</Code>")]).toEqual([400, true]);
    const noHandle = await send("DELETE", `/topics/${topic}/messages?consumer=GID_x`, "<ReceiptHandles/>");
    expect([noHandle.status, noHandle.text.includes("<Code>MissingReceiptHandle</Code>")]).toEqual([400, true]);
  });

  it("refuses a limited account exactly where the native API does", async ({ server, admin }) => {
    await admin.createTopic("AliPub", { queueNums: 1, brokers: ["broker-a"] });
    const other = await newTopic(admin, 1);
    const app = new MQClient(server.url, APP.accessKey, APP.secretKey);
    expect((await app.getProducer(INSTANCE, "AliPub").publishMessage("allowed")).code).toBe(201);
    expect(await sdkCode(app.getProducer(INSTANCE, other).publishMessage("x"))).toBe("AccessDenied");
    // SUB on the group but only PUB on the topic: no consume; no SUB on another group either.
    expect(await sdkCode(app.getConsumer(INSTANCE, "AliPub", "GID_app").consumeMessage(1))).toBe("AccessDenied");
    expect(await sdkCode(app.getConsumer(INSTANCE, "AliPub", "GID_other").ackMessage(["h"]))).toBe("AccessDenied");
    // Transactions need PUB on the group too.
    expect(await sdkCode(app.getTransProducer(INSTANCE, "AliPub", "GID_app").consumeHalfMessage(1))).toBe("AccessDenied");
  });
});
