/**
 * Send channels end to end (protocol/send-channel.ts, client/send-channel.ts): the producer's
 * auto-batched sends over a WebSocket per queue, through the real server with accounts, and the
 * channel's own contract as a client in another language would meet it (raw frames over `ws`).
 */
import { describe, expect } from "vitest";
import WebSocket from "ws";
import { Admin, Producer, PullConsumer, bodyText, type MessageExt, type MessageQueue } from "../../client/index.js";
import type { Credentials } from "../../client/credentials.js";
import { signRequest } from "../../protocol/auth/signature.js";
import { encodeChannelFrame, type ChannelAnswer } from "../../protocol/send-channel.js";
import { it } from "../fixture.js";
import { uniqueName, waitFor, type TestServer } from "../helpers.js";
import { APP, ROOT } from "../auth-helpers.js";

const ACCOUNTS = [
  { ...ROOT, admin: true },
  { ...APP, topicPerms: { ChanSub: "SUB" }, defaultTopicPerm: "DENY", defaultGroupPerm: "PUB|SUB" },
];
it.override("serverOptions", { vars: { FLAREMQ_ACCOUNTS: JSON.stringify(ACCOUNTS) }, credentials: ROOT });

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

interface RawChannel {
  answers: ChannelAnswer[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: Uint8Array | string): void;
  /** The answer to frame `id`. */
  answer(id: number): Promise<ChannelAnswer>;
}

/** A channel opened by hand, as a client in another language would: a signed upgrade, then frames. */
async function rawChannel(server: TestServer, cred: Credentials, mq: MessageQueue): Promise<RawChannel | { refused: number; body: string }> {
  const url = `${server.url}/brokers/${mq.brokerName}/topics/${encodeURIComponent(mq.topic)}/queues/${mq.queueId}/channel`;
  const headers = await signRequest(cred, { method: "GET", url });
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
  const answers: ChannelAnswer[] = [];
  ws.on("message", (data: Buffer) => answers.push(JSON.parse(data.toString("utf8")) as ChannelAnswer));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = await new Promise<true | { refused: number; body: string }>((resolve, reject) => {
    ws.on("open", () => resolve(true));
    ws.on("error", reject);
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += String(d)));
      res.on("end", () => resolve({ refused: res.statusCode ?? 0, body }));
    });
  });
  if (opened !== true) return opened;
  return {
    answers,
    closed,
    send: (frame) => ws.send(frame),
    answer: (id) => waitFor(`answer ${id}`, () => answers.find((a) => "id" in a && a.id === id)),
  };
}

async function readQueue(server: TestServer, mq: MessageQueue, expected: number): Promise<MessageExt[]> {
  const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("cg") });
  const found: MessageExt[] = [];
  await waitFor(`${expected} messages`, async () => {
    const r = await consumer.pull(mq, "*", found.length, 32, { maxWaitMs: 0 });
    if (r.pullStatus === "FOUND") found.push(...r.msgFoundList);
    return found.length >= expected;
  });
  return found;
}

/** Frames the queue's object has answered, and channels it holds (its stats). */
async function channelStats(admin: Admin, mq: MessageQueue): Promise<{ channelFrames: number; sendChannels: number; maxOffset: number }> {
  return (await admin.queueStats(mq)) as unknown as { channelFrames: number; sendChannels: number; maxOffset: number };
}

async function oneQueueTopic(admin: Admin, prefix: string): Promise<MessageQueue> {
  const topic = uniqueName(prefix);
  await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
  return { topic, brokerName: "broker-a", queueId: 0 };
}

describe("send channels", () => {
  it("carry sequential sends once open, each with its own result, stored once with what it carried", async ({ server, admin }) => {
    const mq = await oneQueueTopic(admin, "Chan");
    const producer = new Producer({ endpoint: server.url, credentials: ROOT, group: uniqueName("pg"), sendMsgTimeoutMs: 30_000 });
    await producer.start();
    await producer.send({ topic: mq.topic, body: "opens the channel" }); // over HTTP, while the channel opens
    await waitFor("the channel", async () => (await channelStats(admin, mq)).sendChannels === 1);
    const before = (await channelStats(admin, mq)).channelFrames;
    const results = [];
    for (let i = 0; i < 20; i++) {
      results.push(await producer.send({ topic: mq.topic, body: `m-${i}`, tags: "TagA", keys: [`k-${i}`], properties: { n: String(i) } }));
    }
    const after = await channelStats(admin, mq);
    await producer.shutdown();
    expect(after.channelFrames - before).toBeGreaterThanOrEqual(15); // a renewal may send a few over HTTP
    expect(results.map((r) => r.sendStatus)).toEqual(results.map(() => "SEND_OK"));
    expect(results.map((r) => r.queueOffset)).toEqual(results.map((_, i) => i + 1));
    const stored = await readQueue(server, mq, 21);
    for (const [i, r] of results.entries()) {
      const m = stored[i + 1]!;
      expect([m.msgId, m.offsetMsgId, bodyText(m), m.tags, m.keys, m.properties.n]).toEqual([r.msgId, r.offsetMsgId, `m-${i}`, "TagA", [`k-${i}`], String(i)]);
    }
    await waitFor("the channel closed by shutdown", async () => (await channelStats(admin, mq)).sendChannels === 0);
  });

  it("answer each message on its own, refuse a bad frame whole, and close on a frame that is not one", async ({ server, admin }) => {
    const mq = await oneQueueTopic(admin, "ChanRaw");
    const ch = await rawChannel(server, ROOT, mq);
    if ("refused" in ch) throw new Error(`refused ${ch.refused} ${ch.body}`);
    await waitFor("hello", () => ch.answers.find((a) => "hello" in a));
    expect(ch.answers[0]).toEqual({ hello: { maxAgeMs: expect.any(Number) as number } });

    ch.send(encodeChannelFrame(1, [{ body: bytes("one") }, { body: new Uint8Array(0) }, { body: bytes("three"), tags: "T" }]));
    const first = await ch.answer(1);
    expect("results" in first && first.results.map((r) => (r.ok ? r.result.queueOffset : r.code))).toEqual([0, "MESSAGE_ILLEGAL", 1]);

    // A reserved property refuses the whole frame: nothing of it is stored.
    ch.send(encodeChannelFrame(2, [{ body: bytes("fine") }, { body: bytes("bad"), properties: { DELAY: "3" } }]));
    expect(await ch.answer(2)).toMatchObject({ id: 2, code: "VALIDATION_FAILED" });
    expect((await channelStats(admin, mq)).maxOffset).toBe(2);

    ch.send("not a frame");
    expect((await ch.closed).code).toBe(1007);
    const stored = await readQueue(server, mq, 2);
    expect(stored.map(bodyText)).toEqual(["one", "three"]);
  });

  it("open only for an account with PUB on the topic, and refuse an upgrade that is not one", async ({ server, admin, call }) => {
    const topic = "ChanSub";
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const refused = await rawChannel(server, APP, { topic, brokerName: "broker-a", queueId: 0 });
    expect(refused).toMatchObject({ refused: 403 });
    expect(JSON.parse((refused as { body: string }).body)).toMatchObject({ code: "ACCESS_DENIED" });
    const producer = new Producer({ endpoint: server.url, credentials: APP, group: uniqueName("pg"), sendMsgTimeoutMs: 5_000 });
    await producer.start();
    await expect(producer.send({ topic, body: "x" })).rejects.toMatchObject({ code: "ACCESS_DENIED" });
    await producer.shutdown();
    const plain = await call(ROOT, "GET", `/brokers/broker-a/topics/${topic}/queues/0/channel`);
    expect([plain.status, (plain.body as { code: string }).code]).toEqual([426, "UPGRADE_REQUIRED"]);
    expect((await admin.queueStats({ topic, brokerName: "broker-a", queueId: 0 })).maxOffset).toBe(0);
  });

  it("close when the topic turns read-only, so the next send is refused at once and stores nothing", async ({ server, admin }) => {
    const mq = await oneQueueTopic(admin, "ChanPerm");
    const producer = new Producer({ endpoint: server.url, credentials: ROOT, group: uniqueName("pg"), sendMsgTimeoutMs: 5_000 });
    await producer.start();
    await producer.send({ topic: mq.topic, body: "first" });
    await waitFor("the channel", async () => (await channelStats(admin, mq)).sendChannels === 1);
    await producer.send({ topic: mq.topic, body: "over the channel" });
    await admin.updateTopic(mq.topic, { perm: 4 });
    expect((await channelStats(admin, mq)).sendChannels).toBe(0);
    await expect(producer.send({ topic: mq.topic, body: "refused" })).rejects.toMatchObject({ code: "NO_PERMISSION" });
    await producer.shutdown();
    expect((await channelStats(admin, mq)).maxOffset).toBe(2);
  });

  it("are replaced before their age runs out, without failing a send", async ({ launchServer }) => {
    const server = await launchServer({ vars: { FLAREMQ_ACCOUNTS: JSON.stringify(ACCOUNTS), ROUTE_CACHE_TTL_MS: "1000" }, credentials: ROOT });
    const admin = new Admin({ endpoint: server.url, credentials: ROOT });
    const mq = await oneQueueTopic(admin, "ChanAge");
    const producer = new Producer({ endpoint: server.url, credentials: ROOT, group: uniqueName("pg"), sendMsgTimeoutMs: 30_000 });
    await producer.start();
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 3_500) {
      expect((await producer.send({ topic: mq.topic, body: `m-${sent}` })).sendStatus).toBe("SEND_OK");
      sent++;
    }
    await producer.shutdown();
    const stats = await channelStats(admin, mq);
    expect(stats.maxOffset).toBe(sent);
    expect(stats.channelFrames).toBeGreaterThan(sent / 2); // most went over channels, across at least three of them
    expect((await readQueue(server, mq, sent)).map(bodyText)).toEqual(Array.from({ length: sent }, (_, i) => `m-${i}`));
  });

  it("are not used with sendChannels: false", async ({ server, admin }) => {
    const mq = await oneQueueTopic(admin, "ChanOff");
    const producer = new Producer({ endpoint: server.url, credentials: ROOT, group: uniqueName("pg"), sendChannels: false });
    await producer.start();
    for (let i = 0; i < 5; i++) await producer.send({ topic: mq.topic, body: `m-${i}` });
    await producer.shutdown();
    expect(await channelStats(admin, mq)).toMatchObject({ channelFrames: 0, sendChannels: 0, maxOffset: 5 });
  });
});
