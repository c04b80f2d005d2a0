/**
 * Push subscriptions to an HTTPS webhook, end to end: the real server (a local one, which may
 * call http:// on loopback) delivers a topic's batches to a test HTTP receiver on this machine,
 * which verifies every request's signature as docs/push-subscriptions.md tells receivers to,
 * with the secret answered once at creation. A throttled answer (429) is tried again later; a
 * message the receiver asks to retry comes again with reconsumeTimes + 1.
 */
import { createServer, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, verifyPushSignature, type PushBatch } from "../../client/index.js";
import { it } from "../fixture.js";
import { uniqueName, waitFor } from "../helpers.js";

interface Delivery {
  check: string;
  /** The same request checked with another secret: must never pass. */
  checkWithWrongSecret: string;
  batch: PushBatch;
}

/** What the receiver does with the next requests, by group: "429" once, then accepts; retry names. */
const script = new Map<string, { throttleOnce?: boolean; retryBodies?: Set<string> }>();
const secrets = new Map<string, string>();
const deliveries: Delivery[] = [];
let url = "";
const receiver = createServer((req, res) => {
  void (async () => {
    const raw = await readBody(req);
    const batch = JSON.parse(new TextDecoder().decode(raw)) as PushBatch;
    const header = (name: string) => req.headers[name.toLowerCase()] as string | undefined;
    const secret = secrets.get(batch.group) ?? "";
    const check = await verifyPushSignature({ secret, body: raw, timestamp: header(PUSH_TIMESTAMP_HEADER), signature: header(PUSH_SIGNATURE_HEADER) });
    const checkWithWrongSecret = await verifyPushSignature({
      secret: `${secret}x`,
      body: raw,
      timestamp: header(PUSH_TIMESTAMP_HEADER),
      signature: header(PUSH_SIGNATURE_HEADER),
    });
    deliveries.push({ check, checkWithWrongSecret, batch });
    const plan = script.get(batch.group);
    if (check !== "OK") return void res.writeHead(401).end();
    if (plan?.throttleOnce) {
      plan.throttleOnce = false;
      return void res.writeHead(429, { "retry-after": "0" }).end();
    }
    const retry = batch.messages.filter((m) => plan?.retryBodies?.has(Buffer.from(m.body, "base64").toString()) && m.reconsumeTimes === 0).map((m) => m.msgId);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ retry }));
  })();
});

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on("error", reject);
  });
}

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/flaremq`;
});
afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

const bodiesOf = (group: string) =>
  deliveries.filter((d) => d.batch.group === group).flatMap((d) => d.batch.messages.map((m) => [Buffer.from(m.body, "base64").toString(), m.reconsumeTimes]));

describe("push subscription to a webhook", () => {
  it("signs every request so the receiver verifies it with the secret shown once", async ({ admin, producer }) => {
    const topic = uniqueName("PushHook");
    const group = uniqueName("hookg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const created = await admin.putPushSubscription(group, { topic, target: { type: "webhook", url }, maxBatchTimeoutMs: 0 });
    expect(created.secret).toMatch(/^whsec_/);
    secrets.set(group, created.secret!);
    // The secret is never answered again: not by a read, not by a change.
    const read = await admin.getPushSubscription(group);
    expect(JSON.stringify(read)).not.toContain(created.secret!);
    const changed = await admin.putPushSubscription(group, {
      topic,
      target: { type: "webhook", url },
      maxBatchTimeoutMs: 0,
      maxBatchSize: 20,
      retryDelayMs: 200,
    });
    expect(changed.secret).toBeUndefined();

    script.set(group, { retryBodies: new Set(["again"]) });
    await producer.send([
      { topic, body: "a" },
      { topic, body: "again" },
      { topic, body: "b" },
    ]);
    await waitFor("the retried message delivered again", () => bodiesOf(group).length >= 4, 30_000);
    expect(bodiesOf(group)).toEqual([
      ["a", 0],
      ["again", 0],
      ["b", 0],
      ["again", 1],
    ]);
    const mine = deliveries.filter((d) => d.batch.group === group);
    expect(mine.map((d) => d.check)).toEqual(mine.map(() => "OK"));
    expect(mine.map((d) => d.checkWithWrongSecret)).toEqual(mine.map(() => "MISMATCH"));
    await waitFor("caught up", async () => (await admin.getPushSubscription(group)).lag === 0);
  });

  it("a 429 backs off and the batch goes again, its messages not counted as failed", async ({ admin, producer }) => {
    const topic = uniqueName("PushHook");
    const group = uniqueName("hookg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const created = await admin.putPushSubscription(group, { topic, target: { type: "webhook", url }, maxBatchTimeoutMs: 0, maxRetries: 0 });
    secrets.set(group, created.secret!);
    script.set(group, { throttleOnce: true });
    await producer.send({ topic, body: "patience" });
    await waitFor("delivered after the 429", () => deliveries.filter((d) => d.batch.group === group).length >= 2, 30_000);
    // Both requests carried the message as a first delivery; nothing went to the DLQ (maxRetries 0).
    expect(bodiesOf(group)).toEqual([
      ["patience", 0],
      ["patience", 0],
    ]);
    expect(await admin.listDlq(group)).toEqual([]);
    const progress = await admin.getPushSubscription(group);
    expect(progress.lastError?.message).toBe("the target answered 429");
  });
});
