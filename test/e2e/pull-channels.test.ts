/**
 * Pull channels end to end (protocol/pull-channel.ts, client/pull-api.ts): a push consumer's
 * pulls over a WebSocket per queue, through the real server with accounts, and the channel's
 * contract as a client in another language would meet it (raw frames over `ws`).
 */
import { describe, expect } from "vitest";
import WebSocket from "ws";
import { Admin, Producer, PushConsumer, bodyText, concurrently, type MessageQueue } from "../../client/index.js";
import type { Credentials } from "../../client/credentials.js";
import { signRequest } from "../../protocol/auth/signature.js";
import { decodeFramed } from "../../protocol/framed-messages.js";
import type { PullChannelAnswerHead } from "../../protocol/pull-channel.js";
import { it } from "../fixture.js";
import { uniqueName, waitFor, type TestServer } from "../helpers.js";
import { APP, ROOT } from "../auth-helpers.js";

const ACCOUNTS = [
  { ...ROOT, admin: true },
  { ...APP, topicPerms: { PullPubOnly: "PUB" }, defaultTopicPerm: "DENY", defaultGroupPerm: "PUB|SUB" },
];
it.override("serverOptions", { vars: { FLAREMQ_ACCOUNTS: JSON.stringify(ACCOUNTS) }, credentials: ROOT });

type Answer = (PullChannelAnswerHead & { messages: { body: Uint8Array }[] }) | { id: number; code: string; message: string } | { hello: unknown };

/** A pull channel opened by hand: a signed upgrade, then text frames; answers decoded. */
async function rawPullChannel(
  server: TestServer,
  cred: Credentials,
  mq: MessageQueue,
): Promise<{ answers: Answer[]; send(frame: object): void; close(): void } | { refused: number; body: string }> {
  const url = `${server.url}/brokers/${mq.brokerName}/topics/${encodeURIComponent(mq.topic)}/queues/${mq.queueId}/pull-channel`;
  const headers = await signRequest(cred, { method: "GET", url });
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
  const answers: Answer[] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) =>
    answers.push(isBinary ? (decodeFramed(new Uint8Array(data)) as unknown as Answer) : (JSON.parse(data.toString("utf8")) as Answer)),
  );
  const opened = await new Promise<true | { refused: number; body: string }>((resolve, reject) => {
    ws.on("open", () => resolve(true));
    ws.on("error", reject);
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString("utf8")));
      res.on("end", () => resolve({ refused: res.statusCode ?? 0, body }));
    });
  });
  if (opened !== true) return opened;
  return { answers, send: (frame) => ws.send(JSON.stringify(frame)), close: () => ws.close() };
}

describe("pull channels", () => {
  it("carry a push consumer's pulls: every message once, in order per queue, answered while parked", async ({ server, admin }) => {
    const topic = uniqueName("PullChan");
    await admin.createTopic(topic, { queueNums: 2 }); // 4 queues on 2 brokers
    const received: { queue: string; body: string; offset: number }[] = [];
    const consumer = new PushConsumer({ endpoint: server.url, credentials: ROOT, group: uniqueName("cg"), heartbeatIntervalMs: 500 });
    consumer.subscribe(topic);
    consumer.registerMessageListener(
      concurrently((msgs) => {
        for (const m of msgs) received.push({ queue: `${m.brokerName}/${m.queueId}`, body: bodyText(m), offset: m.queueOffset });
        return "CONSUME_SUCCESS";
      }),
    );
    await consumer.start();
    const producer = new Producer({ endpoint: server.url, credentials: ROOT, group: uniqueName("pg"), sendMsgTimeoutMs: 30_000 });
    await producer.start();
    try {
      await waitFor("4 queues assigned", () => consumer.assignedQueues.filter((q) => q.topic === topic).length === 4);
      // Sends spread over time, so most arrive while the consumer's pulls are parked.
      for (let i = 0; i < 40; i++) {
        await producer.send({ topic, body: `m-${i}` });
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 100));
      }
      await waitFor("40 messages", () => received.length >= 40);
      await new Promise((r) => setTimeout(r, 200));
      expect(received.map((r) => r.body).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `m-${i}`).sort());
      for (const queue of new Set(received.map((r) => r.queue))) {
        const offsets = received.filter((r) => r.queue === queue).map((r) => r.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
      expect(consumer.pullChannelStats.opened).toBeGreaterThanOrEqual(4);
      expect(consumer.pullChannelStats.frames).toBeGreaterThan(4);
    } finally {
      await producer.shutdown();
      await consumer.shutdown();
    }
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    await waitFor("the consumer's channels closed", async () => ((await admin.queueStats(mq)) as unknown as { pullChannels: number }).pullChannels === 0);
  });

  it("open only with SUB on the topic, park a pull until a send and answer it framed with the messages", async ({ server, admin }) => {
    const topic = "PullPubOnly";
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    expect(await rawPullChannel(server, APP, mq)).toMatchObject({ refused: 403 });

    const ch = await rawPullChannel(server, ROOT, mq);
    if ("refused" in ch) throw new Error(`refused ${ch.refused}`);
    ch.send({ id: 1, pull: { offset: 0, maxNums: 32, expression: "*", expressionType: "TAG", maxWaitMs: 20_000 } });
    await new Promise((r) => setTimeout(r, 100));
    expect(ch.answers.filter((a) => "id" in a)).toEqual([]);
    const producer = new Producer({ endpoint: server.url, credentials: APP, group: uniqueName("pg"), sendChannels: false });
    await producer.start();
    const sent = await producer.send({ topic, body: "parked no more", tags: "T" });
    await producer.shutdown();
    const answer = (await waitFor("the parked pull's answer", () => ch.answers.find((a) => "id" in a && a.id === 1))) as PullChannelAnswerHead & {
      messages: { body: Uint8Array; msgId: string; tags: string }[];
    };
    expect([answer.pullStatus, answer.nextBeginOffset, answer.messages.length]).toEqual(["FOUND", 1, 1]);
    expect([new TextDecoder().decode(answer.messages[0]!.body), answer.messages[0]!.msgId, answer.messages[0]!.tags]).toEqual([
      "parked no more",
      sent.msgId,
      "T",
    ]);
    ch.send({ id: 2, pull: { offset: 1, maxNums: 32, expression: "*", expressionType: "TAG", maxWaitMs: 20_000 } });
    ch.send({ cancel: 2 });
    expect(await waitFor("the cancelled pull's answer", () => ch.answers.find((a) => "id" in a && a.id === 2))).toMatchObject({
      pullStatus: "NO_NEW_MSG",
      nextBeginOffset: 1,
    });
    ch.close();
    const admin2 = new Admin({ endpoint: server.url, credentials: ROOT });
    expect((await admin2.queueStats(mq)).maxOffset).toBe(1);
  });
});
