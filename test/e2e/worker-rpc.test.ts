/**
 * The Workers RPC entrypoint (`FlareMQ`, workers/rpc/) end to end: the producer and consumer
 * Workers of examples/, each bound to the real flaremq Worker by its own wrangler.toml's service
 * binding, all in one workerd; plus a probe Worker that calls the RPC with whatever arguments a
 * hostile tenant would, to check that every call is held to its binding's account.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeReceiptHandle } from "../../protocol/receipt-handle.js";
import { mqErrorFromRpc } from "../../protocol/worker-rpc.js";
import { waitFor } from "../helpers.js";
import { EXAMPLES, startWithExamples, type RunningWorkers } from "../worker-examples.js";

const ACCOUNTS = [
  { accessKey: "orders-producer", secretKey: "producer-secret-0123456789", topicPerms: { Orders: "PUB", OrdersFifo: "PUB" } },
  {
    accessKey: "orders-consumer",
    secretKey: "consumer-secret-0123456789",
    topicPerms: { Orders: "SUB", OrdersFifo: "SUB" },
    groupPerms: { "order-workers": "SUB", "order-fifo": "SUB" },
  },
  { accessKey: "limited", secretKey: "limited-secret-0123456789", topicPerms: { Other: "PUB|SUB" }, groupPerms: { "other-workers": "SUB" } },
];

/**
 * Calls one RPC method through a bound worker; answers its value or the refusal's message.
 * Bytes travel in JSON as { __bytes: text } (UTF-8), both ways.
 */
const PROBE = `
const bytesIn = (_k, v) => (v && typeof v === "object" && typeof v.__bytes === "string" ? new TextEncoder().encode(v.__bytes) : v);
const bytesOut = (_k, v) => (v instanceof Uint8Array ? { __bytes: new TextDecoder().decode(v) } : v);
export default {
  async fetch(request, env) {
    const { method, args, property } = JSON.parse(await request.text(), bytesIn);
    try {
      if (property !== undefined) return Response.json({ value: await env.MQ[property] });
      const value = await env.MQ[method](...args);
      return new Response(JSON.stringify({ value }, bytesOut), { headers: { "content-type": "application/json" } });
    } catch (e) {
      return Response.json({ error: String(e && e.message) });
    }
  },
};`;

let workers: RunningWorkers;

beforeAll(async () => {
  workers = await startWithExamples(ACCOUNTS, [
    { name: "orders-producer", example: EXAMPLES.producer },
    { name: "orders-consumer", example: EXAMPLES.consumer },
    { name: "producer-limited", example: EXAMPLES.producer, props: { account: "limited" } },
    { name: "producer-anonymous", example: EXAMPLES.producer, props: null },
    { name: "producer-unknown", example: EXAMPLES.producer, props: { account: "nobody" } },
    { name: "consumer-limited", example: EXAMPLES.consumer, props: { account: "limited" } },
    { name: "probe-consumer", script: PROBE, props: { account: "orders-consumer" } },
    { name: "probe-producer", script: PROBE, props: { account: "orders-producer" } },
    { name: "probe-anonymous", script: PROBE },
  ]);
});

afterAll(async () => {
  await workers?.stop();
});

async function post(worker: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & unknown[] }> {
  const w = await workers.worker(worker);
  const res = await w.fetch(`http://example${path}`, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & unknown[] };
}

/** The code an RPC call made by a probe worker is refused with, or "NO_ERROR". */
async function probeCode(worker: string, method: string, ...args: unknown[]): Promise<string> {
  const { body } = await post(worker, "/", { method, args });
  if (typeof body.error !== "string") return "NO_ERROR";
  return mqErrorFromRpc(new Error(body.error))?.code ?? `UNCODED: ${body.error}`;
}

/** The value an RPC call made by a probe worker answers; fails on a refusal. */
async function probeValue<T>(worker: string, method: string, ...args: unknown[]): Promise<T> {
  const { body } = await post(worker, "/", { method, args });
  if (typeof body.error === "string") throw new Error(`${method} refused: ${body.error}`);
  return body.value as T;
}

interface RunReport {
  handled: { msgId: string; orderId: string; reconsumeTimes: number }[];
  failed: unknown[];
  ackFailures: number;
}

const order = (id: string) => ({ id, item: "widget", quantity: 1 });

describe("a binding may do what its account may, nothing more", () => {
  it("refuses a binding that names no account, or an account that does not exist, with UNAUTHENTICATED", async () => {
    expect(await post("producer-anonymous", "/orders", order("a-1"))).toMatchObject({ status: 401, body: { code: "UNAUTHENTICATED" } });
    expect(await post("producer-unknown", "/orders", order("u-1"))).toMatchObject({ status: 401, body: { code: "UNAUTHENTICATED" } });
    expect(await probeCode("probe-anonymous", "receive", { group: "order-workers", topic: "Orders", maxMessageNum: 1, invisibleDurationMs: 10_000 })).toBe(
      "UNAUTHENTICATED",
    );
  });

  it("refuses an account without PUB on the topic or SUB on the group with ACCESS_DENIED", async () => {
    expect(await post("producer-limited", "/orders", order("l-1"))).toMatchObject({ status: 403, body: { code: "ACCESS_DENIED" } });
    expect(await post("producer-limited", "/orders/batch", [order("l-2")])).toMatchObject({ status: 403, body: { code: "ACCESS_DENIED" } });
    expect(await post("consumer-limited", "/consume")).toMatchObject({ status: 403, body: { code: "ACCESS_DENIED" } });
  });

  it("checks every topic and group a call names, receipt handles included", async () => {
    const receive = { topic: "Orders", maxMessageNum: 1, invisibleDurationMs: 10_000, maxWaitMs: 0 };
    // SUB on the group but not on the topic, and the other way round.
    expect(await probeCode("probe-consumer", "receive", { ...receive, group: "order-workers", topic: "Secret" })).toBe("ACCESS_DENIED");
    expect(await probeCode("probe-consumer", "receive", { ...receive, group: "other-workers" })).toBe("ACCESS_DENIED");
    // A handle naming a topic the account may not read is refused before anything is acked or changed.
    const forged = encodeReceiptHandle({ brokerName: "broker-a", topic: "Secret", queueId: 0, queueOffset: 0, nonce: 1, invisibleUntil: Date.now() + 60_000 });
    expect(await probeCode("probe-consumer", "ack", "order-workers", [forged])).toBe("ACCESS_DENIED");
    expect(await probeCode("probe-consumer", "changeInvisibleDuration", "order-workers", forged, 20_000)).toBe("ACCESS_DENIED");
    expect(await probeCode("probe-consumer", "ack", "other-workers", [forged])).toBe("ACCESS_DENIED");
    // A consumer's account cannot send, a producer's cannot receive.
    expect(await probeCode("probe-consumer", "send", { topic: "Orders", body: "x" })).toBe("ACCESS_DENIED");
    expect(await probeCode("probe-producer", "receive", { ...receive, group: "order-workers" })).toBe("ACCESS_DENIED");
    // A retry topic is its group's; no account sends to it directly.
    expect(await probeCode("probe-producer", "send", { topic: "%RETRY%order-workers", body: "x" })).toBe("ACCESS_DENIED");
  });

  it("offers nothing but the calls: no environment, context or helper of the entrypoint", async () => {
    for (const property of ["env", "ctx"]) {
      expect((await post("probe-producer", "/", { property })).body).toEqual({ error: `The RPC receiver does not implement the method "${property}".` });
    }
    expect((await post("probe-producer", "/", { property: "constructor" })).body).toEqual({});
    expect(await probeCode("probe-producer", "fetch", "http://x/namesrv/topics")).toMatch(/^UNCODED/);
  });

  it("validates arguments as the HTTP API does, with the same codes", async () => {
    expect(await probeCode("probe-producer", "send", { topic: "Orders", body: 42 })).toBe("VALIDATION_FAILED");
    expect(await probeCode("probe-producer", "send", { topic: "Orders", body: "" })).toBe("MESSAGE_ILLEGAL");
    expect(await probeCode("probe-producer", "send", { topic: "Orders", body: "x", properties: { DELAY: "1" } })).toBe("VALIDATION_FAILED");
    expect(
      await probeCode("probe-producer", "sendBatch", [
        { topic: "Orders", body: "x" },
        { topic: "Other", body: "y" },
      ]),
    ).toBe("MESSAGE_ILLEGAL");
    expect(
      await probeCode("probe-producer", "sendBatch", [
        { topic: "Orders", body: "x", delayTimeLevel: 2 },
        { topic: "Orders", body: "y" },
      ]),
    ).toBe("BATCH_DELAY_NOT_SUPPORTED");
    expect(await probeCode("probe-producer", "sendOrderly", { topic: "Orders", body: "x" }, "")).toBe("VALIDATION_FAILED");
    expect(await probeCode("probe-consumer", "receive", { group: "order-workers", topic: "Orders", maxMessageNum: 1, invisibleDurationMs: 1000 })).toBe(
      "VALIDATION_FAILED",
    );
    expect(await probeCode("probe-consumer", "ack", "order-workers", ["not-a-handle"])).toBe("NO_ERROR"); // answered RECEIPT_HANDLE_INVALID per handle
    expect(await probeCode("probe-consumer", "changeInvisibleDuration", "order-workers", "not-a-handle", 20_000)).toBe("RECEIPT_HANDLE_INVALID");
  });
});

describe("the example Workers", () => {
  it("the consumer Worker receives and acks each of 1,000 orders the producer Worker sent exactly once", async () => {
    const sent: string[] = [];
    for (let b = 0; b < 10; b++) {
      const orders = Array.from({ length: 100 }, (_, i) => order(`o-${b * 100 + i}`));
      const { status, body } = await post("orders-producer", "/orders/batch", orders);
      expect(status).toBe(200);
      expect(body).toMatchObject({ sendStatus: "SEND_OK", messageQueue: { topic: "Orders" } });
      expect((body as unknown as { msgIds: string[] }).msgIds).toHaveLength(100);
      sent.push(...orders.map((o) => o.id));
    }
    const handled: RunReport["handled"] = [];
    // Each run drains what is visible (up to 20 receives of 32); a few runs take everything.
    for (let run = 0; run < 20 && handled.length < sent.length; run++) {
      const { status, body } = await post("orders-consumer", "/consume");
      expect(status).toBe(200);
      const report = body as unknown as RunReport;
      expect(report.failed).toEqual([]);
      expect(report.ackFailures).toBe(0);
      handled.push(...report.handled);
    }
    expect(handled.map((h) => h.orderId).sort()).toEqual([...sent].sort());
    expect(new Set(handled.map((h) => h.msgId)).size).toBe(sent.length);
    expect(handled.every((h) => h.reconsumeTimes === 0)).toBe(true);
    // Nothing is left visible to the group.
    expect(((await post("orders-consumer", "/consume")).body as unknown as RunReport).handled).toEqual([]);
  });

  it("sends one order, and orders of one id to one queue in order", async () => {
    const one = await post("orders-producer", "/orders", order("single-1"));
    expect(one).toMatchObject({ status: 200, body: { sendStatus: "SEND_OK", messageQueue: { topic: "Orders" } } });
    const { status, body } = await post("orders-producer", "/orders/ordered", [order("k-A"), order("k-B"), order("k-A"), order("k-A")]);
    expect(status).toBe(200);
    const results = body as unknown as { messageQueue: { brokerName: string; queueId: number }; queueOffset: number }[];
    const a = [results[0]!, results[2]!, results[3]!];
    expect(new Set(a.map((r) => `${r.messageQueue.brokerName}/${r.messageQueue.queueId}`)).size).toBe(1);
    expect(a.map((r) => r.queueOffset)).toEqual([...a.map((r) => r.queueOffset)].sort((x, y) => x - y));
    // The cron trigger consumes them: the five orders are received and acked (every ack OK), none is left.
    const consumer = await workers.worker("orders-consumer");
    const outcome = await consumer.scheduled({ cron: "* * * * *" });
    expect(outcome.outcome).toBe("ok");
    await waitFor("the scheduled run's report", () => workers.stdout().includes("consumed 5 orders, 0 failed, 0 acks too late"));
    expect(((await post("orders-consumer", "/consume")).body as unknown as RunReport).handled).toEqual([]);
  });

  it("changes a held message's invisibility over RPC: the old handle is superseded, the new one acks once", async () => {
    await post("orders-producer", "/orders", order("change-1"));
    const received = await probeValue<{ receiptHandle: string; invisibleUntil: number; keys: string[] }[]>("probe-consumer", "receive", {
      group: "order-workers",
      topic: "Orders",
      maxMessageNum: 32,
      invisibleDurationMs: 10_000,
      maxWaitMs: 5000,
    });
    expect(received.map((m) => m.keys)).toEqual([["change-1"]]);
    const held = received[0]!;
    const changed = await probeValue<{ receiptHandle: string; invisibleUntil: number }>(
      "probe-consumer",
      "changeInvisibleDuration",
      "order-workers",
      held.receiptHandle,
      60_000,
    );
    expect(changed.invisibleUntil).toBeGreaterThan(held.invisibleUntil);
    const acks = await probeValue<{ status: string }[]>("probe-consumer", "ack", "order-workers", [held.receiptHandle, changed.receiptHandle]);
    expect(acks.map((a) => a.status)).toEqual(["RECEIPT_HANDLE_EXPIRED", "OK"]); // the old handle was superseded
    const again = await probeValue<{ status: string }[]>("probe-consumer", "ack", "order-workers", [changed.receiptHandle]);
    expect(again.map((a) => a.status)).toEqual(["RECEIPT_HANDLE_INVALID"]);
  });

  it("sendOrderly's key is the message group of an orderly receive: one message of a key at a time", async () => {
    const sent: { messageQueue: { brokerName: string; queueId: number }; queueOffset: number }[] = [];
    for (let i = 0; i < 3; i++) sent.push(await probeValue("probe-producer", "sendOrderly", { topic: "OrdersFifo", keys: [`k1-${i}`], body: `k1-${i}` }, "K1"));
    expect(new Set(sent.map((r) => `${r.messageQueue.brokerName}/${r.messageQueue.queueId}`)).size).toBe(1);
    expect(sent.map((r) => r.queueOffset - sent[0]!.queueOffset)).toEqual([0, 1, 2]);
    const receive = (maxMessageNum: number, maxWaitMs: number) =>
      probeValue<{ keys: string[]; receiptHandle: string; properties: Record<string, string> }[]>("probe-consumer", "receive", {
        group: "order-fifo",
        topic: "OrdersFifo",
        maxMessageNum,
        invisibleDurationMs: 60_000,
        maxWaitMs,
        orderly: true,
      });
    const ack = async (handles: string[]) => (await probeValue<{ status: string }[]>("probe-consumer", "ack", "order-fifo", handles)).map((a) => a.status);
    const [first, ...none] = await receive(1, 5000);
    expect(none).toEqual([]);
    expect(first).toMatchObject({ keys: ["k1-0"], properties: { __SHARDINGKEY: "K1" } });
    // The key's later messages are held back while its first is unacked...
    expect(await receive(32, 0)).toEqual([]);
    expect(await ack([first!.receiptHandle])).toEqual(["OK"]);
    // ...and come, in order, once it is acked.
    const rest = await receive(32, 5000);
    expect(rest.map((m) => m.keys)).toEqual([["k1-1"], ["k1-2"]]);
    expect(await ack(rest.map((m) => m.receiptHandle))).toEqual(["OK", "OK"]);
  });

  it("carries bytes both ways: a Uint8Array body is received as the same bytes", async () => {
    const text = "bytes \u00e9\u4e2d \u{1f600}";
    const result = await probeValue<{ sendStatus: string }>("probe-producer", "sendOrderly", { topic: "OrdersFifo", body: { __bytes: text } }, "K2");
    expect(result.sendStatus).toBe("SEND_OK");
    const got = await probeValue<{ body: { __bytes: string } }[]>("probe-consumer", "receive", {
      group: "order-fifo",
      topic: "OrdersFifo",
      maxMessageNum: 32,
      invisibleDurationMs: 60_000,
      maxWaitMs: 5000,
      orderly: true,
    });
    expect(got.map((m) => m.body)).toEqual([{ __bytes: text }]);
  });
});
