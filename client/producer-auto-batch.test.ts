/**
 * The Producer's auto-batching against a fake deployment that speaks the multi-queue send
 * (POST /topics/:t/messages) and records every request: sends ready together share one
 * request across queues and brokers; a refused message retries by itself on another queue
 * with its own msgId while the others are answered; each send keeps its own timeout and
 * AbortSignal while its request hangs.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ErrorCode } from "../protocol/errors.js";
import type { MultiSendItem } from "../protocol/multi-send.js";
import type { SendResult } from "../protocol/message.js";
import type { MultiSendRequest } from "../protocol/schemas.js";
import type { FetchLike } from "./transport.js";
import { routeAnswer, TWO_BROKERS } from "./test-support/routes.js";
import { codeOf, startedProducer } from "./test-support/producers.js";

type Entry = MultiSendRequest["queues"][number];

/** `refuse` names the code a queue entry's messages get ("broker-a:0"), or "HANG" for the whole request. */
function fakeDeployment(refuse: (entry: Entry, request: number) => ErrorCode | "HANG" | undefined = () => undefined) {
  const requests: MultiSendRequest[] = [];
  const fetch: FetchLike = async (input, init) => {
    const path = new URL(input).pathname;
    const routed = routeAnswer(path, init.method, { T: TWO_BROKERS });
    if (routed) return routed;
    if (!/^\/topics\/T\/messages$/.test(path) || init.method !== "POST") return Response.json({ code: "NOT_FOUND", message: path }, { status: 404 });
    const request = JSON.parse(init.body as string) as MultiSendRequest;
    requests.push(request);
    const n = requests.length;
    if (request.queues.some((q) => refuse(q, n) === "HANG")) {
      return new Promise<Response>((_resolve, reject) => init.signal!.addEventListener("abort", () => reject(init.signal!.reason), { once: true }));
    }
    const results = request.queues.flatMap((q) =>
      q.messages.map((m, i): MultiSendItem => {
        const code = refuse(q, n);
        if (code && code !== "HANG") return { ok: false, code, message: `${q.brokerName}:${q.queueId} says ${code}` };
        const messageQueue = { topic: "T", brokerName: q.brokerName, queueId: q.queueId };
        return {
          ok: true,
          result: { sendStatus: "SEND_OK", msgId: m.msgId!, offsetMsgId: "", messageQueue, queueOffset: n * 100 + i, msgIds: [m.msgId!], offsetMsgIds: [""] },
        };
      }),
    );
    return Response.json({ results });
  };
  return { fetch, requests };
}

const where = (e: { brokerName: string; queueId: number }) => `${e.brokerName}:${e.queueId}`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Producer auto-batching", () => {
  it("sends issued while a request is in flight join one queue and ride the next request; the next batch moves on", async () => {
    const d = fakeDeployment();
    // Holds each multi-queue send until the test lets it through.
    const held: (() => void)[] = [];
    const gated: FetchLike = async (input, init) => {
      if (new URL(input).pathname.endsWith("/messages")) await new Promise<void>((r) => held.push(r));
      return d.fetch(input, init);
    };
    const release = async () => {
      await vi.waitFor(() => expect(held.length).toBeGreaterThan(0));
      held.shift()!();
    };
    const producer = await startedProducer(gated);
    const sends: Promise<SendResult>[] = [producer.send({ topic: "T", body: "first" })];
    await vi.waitFor(() => expect(held).toHaveLength(1)); // "first" is in flight
    for (let i = 0; i < 5; i++) sends.push(producer.send({ topic: "T", body: `m${i}` }));
    await release(); // "first" answered: m0..m4 leave together
    await vi.waitFor(() => expect(held).toHaveLength(1));
    for (let i = 0; i < 3; i++) sends.push(producer.send({ topic: "T", body: `n${i}` }));
    await release();
    await release();
    const results = await Promise.all(sends);
    expect(d.requests.map((r) => r.queues.map((q) => q.messages.map((m) => m.body).join("+")))).toEqual([["first"], ["m0+m1+m2+m3+m4"], ["n0+n1+n2"]]);
    const queues = results.map((r) => where(r.messageQueue)); // first, m0..m4, n0..n2
    expect(new Set(queues.slice(1, 6)).size).toBe(1);
    expect(new Set(queues.slice(6)).size).toBe(1);
    expect(new Set([queues[0], queues[1], queues[6]]).size).toBe(3); // the queues take turns
    expect(new Set(results.map((r) => r.msgId)).size).toBe(9);
  });

  it("carries sends ready together in one request over every queue of the topic, round-robin as RocketMQ spreads them", async () => {
    const d = fakeDeployment();
    const producer = await startedProducer(d.fetch);
    await producer.send({ topic: "T", body: "warm" }); // the route is cached: the next sends are ready together
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => producer.send({ topic: "T", body: `m${i}` })));
    expect(d.requests).toHaveLength(2);
    expect(d.requests[1]!.queues.map(where).sort()).toEqual([
      "broker-a:0",
      "broker-a:1",
      "broker-a:2",
      "broker-a:3",
      "broker-b:0",
      "broker-b:1",
      "broker-b:2",
      "broker-b:3",
    ]);
    const sentIds = d.requests[1]!.queues.flatMap((q) => q.messages.map((m) => m.msgId));
    expect(results.map((r) => r.msgId).sort()).toEqual([...sentIds].sort());
    expect(new Set(sentIds).size).toBe(8);
    expect(producer.autoBatchStats).toEqual({ requests: 2, messages: 9, waiting: 0 });
  });

  it("a refused message retries alone on another broker with its own msgId; the others are answered at once", async () => {
    const d = fakeDeployment((q, n) => (n === 2 && where(q) === "broker-a:1" ? "SERVICE_UNAVAILABLE" : undefined));
    const producer = await startedProducer(d.fetch, { autoBatchStickyQueue: false });
    await producer.send({ topic: "T", body: "warm" }); // to broker-a:0; the next go to a:1, a:2, a:3
    const results = await Promise.all(["x", "y", "z"].map((body) => producer.send({ topic: "T", body })));
    expect(d.requests.slice(1).map((r) => r.queues.map((q) => `${where(q)}=${q.messages.map((m) => m.body).join("+")}`))).toEqual([
      ["broker-a:1=x", "broker-a:2=y", "broker-a:3=z"],
      ["broker-b:0=x"],
    ]);
    const refusedId = d.requests[1]!.queues[0]!.messages[0]!.msgId;
    expect(d.requests[2]!.queues[0]!.messages[0]!.msgId).toBe(refusedId);
    expect(results.map((r) => where(r.messageQueue))).toEqual(["broker-b:0", "broker-a:2", "broker-a:3"]);
  });

  it("a refusal that is not retriable fails only its own send", async () => {
    const d = fakeDeployment((q) => (where(q) === "broker-a:1" ? "MESSAGE_ILLEGAL" : undefined));
    const producer = await startedProducer(d.fetch, { autoBatchStickyQueue: false });
    await producer.send({ topic: "T", body: "warm" });
    const codes = await Promise.all(["x", "y"].map((body) => codeOf(producer.send({ topic: "T", body }))));
    expect(codes).toEqual(["MESSAGE_ILLEGAL", "NO_ERROR"]);
    expect(d.requests).toHaveLength(2);
  });

  it("each send keeps its own signal and timeout while the request carrying it hangs", async () => {
    const d = fakeDeployment((_q, n) => (n === 2 ? "HANG" : undefined));
    const producer = await startedProducer(d.fetch, { sendMsgTimeoutMs: 60_000 });
    await producer.send({ topic: "T", body: "warm" });
    const abort = new AbortController();
    const aborted = codeOf(producer.send({ topic: "T", body: "a" }, { signal: abort.signal }));
    const timed = codeOf(producer.send({ topic: "T", body: "b" }, { timeoutMs: 50 }));
    let third = "pending";
    const stopThird = new AbortController();
    const waiting = codeOf(producer.send({ topic: "T", body: "c" }, { signal: stopThird.signal })).then((c) => (third = c));
    expect(await timed).toBe("TIMEOUT");
    abort.abort();
    expect(await aborted).toBe("ABORTED");
    expect(third).toBe("pending");
    expect(d.requests[1]!.queues.flatMap((q) => q.messages.map((m) => m.body))).toEqual(["a", "b", "c"]);
    stopThird.abort(); // ends the test without waiting out the hanging request
    await waiting;
    expect(third).toBe("ABORTED");
  });
});
