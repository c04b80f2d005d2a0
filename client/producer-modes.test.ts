/**
 * Send modes of the Producer against a fake deployment (an injected fetch): callback sends,
 * the in-flight cap, oneway sends, ordered sends (shardingKey and selector) and batches.
 * Longer than ~350 lines because every mode is tested against the same fake deployment and its
 * request log, set up once at the top; one describe per send mode keeps each findable.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ErrorCodes, isMQError, type ErrorCode } from "../protocol/errors.js";
import type { MessageQueue, SendResult } from "../protocol/message.js";
import type { TopicRouteData } from "../protocol/route.js";
import type { MessageIn } from "../protocol/schemas.js";
import type { Message } from "./message.js";
import { Producer, type SendCallback } from "./producer.js";
import { javaStringHash, type MessageQueueSelector } from "./queue-selector.js";
import type { FetchLike } from "./transport.js";
import { qd, route, routeAnswer, TWO_BROKERS } from "./test-support/routes.js";
import { codeOf, startedProducer } from "./test-support/producers.js";
import { deferred } from "./test-support/promises.js";
import { withMultiSend } from "./test-support/multi-send.js";

interface Post {
  /** 1-based arrival number. */
  seq: number;
  brokerName: string;
  topic: string;
  queueId: number;
  query: URLSearchParams;
  body: { messages: MessageIn[]; [k: string]: unknown };
  messages: MessageIn[];
}

type SendAnswer = ErrorCode | "OK" | "NETWORK";

/** The write queues of TWO_BROKERS in route order. */
const WRITE_QUEUES: MessageQueue[] = ["broker-a", "broker-b"].flatMap((brokerName) => [0, 1, 2, 3].map((queueId) => ({ topic: "T", brokerName, queueId })));

/** How long the fake broker takes to answer, on the real clock (latency, not a wait for anything). */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A fake deployment. GET /namesrv/topics/:t/route answers from `routes`; POST
 * /brokers/:b/topics/:t/queues/:q/messages answers as `answer` decides, possibly after a
 * while. It records every POST, the POSTs in flight at once, and an event log.
 */
function fakeCluster(routes: Record<string, TopicRouteData>, answer: (post: Post) => SendAnswer | Promise<SendAnswer> = () => "OK") {
  const routeGets: string[] = [];
  const posts: Post[] = [];
  const events: string[] = [];
  const state = { inflight: 0, maxInflight: 0, responded: 0 };
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const path = url.pathname;
    const routed = routeAnswer(path, init.method, routes, routeGets);
    if (routed) return routed;
    const s = /^\/brokers\/([^/]+)\/topics\/([^/]+)\/queues\/(\d+)\/messages$/.exec(path);
    if (s && init.method === "POST") {
      const body = JSON.parse(init.body as string) as Post["body"];
      const post: Post = {
        seq: posts.length + 1,
        brokerName: decodeURIComponent(s[1]!),
        topic: decodeURIComponent(s[2]!),
        queueId: Number(s[3]),
        query: url.searchParams,
        body,
        messages: body.messages,
      };
      posts.push(post);
      const label = post.messages.map((m) => m.body).join("+");
      events.push(`arrive ${label}`);
      state.inflight++;
      state.maxInflight = Math.max(state.maxInflight, state.inflight);
      try {
        const a = await answer(post);
        if (init.signal?.aborted) throw init.signal.reason;
        if (a === "NETWORK") throw new TypeError("fetch failed");
        if (a !== "OK") return Response.json({ code: a, message: `broker says ${a}` }, { status: ErrorCodes[a] });
        const msgIds = post.messages.map((m) => m.msgId!);
        const result: SendResult = {
          sendStatus: "SEND_OK",
          msgId: msgIds.join(","),
          offsetMsgId: `off-${post.seq}`,
          messageQueue: { topic: post.topic, brokerName: post.brokerName, queueId: post.queueId },
          queueOffset: post.seq,
          msgIds,
          offsetMsgIds: msgIds.map((_, i) => `off-${post.seq}-${i}`),
        };
        return Response.json(result);
      } finally {
        state.inflight--;
        state.responded++;
        events.push(`respond ${label}`);
      }
    }
    return Response.json({ code: "NOT_FOUND", message: path }, { status: 404 });
  };
  return { fetch: withMultiSend(fetch), posts, routeGets, events, state };
}

const codeOfError = (e: unknown): string => (isMQError(e) ? e.code : `NOT_MQERROR:${String(e)}`);
const where = (p: { brokerName: string; queueId: number }): string => `${p.brokerName}:${p.queueId}`;

/** A SendCallback that records every call, with a promise that settles on the first one. */
function recordingCallback() {
  const successes: SendResult[] = [];
  const failures: unknown[] = [];
  const first = deferred();
  const callback: SendCallback = {
    onSuccess(result) {
      successes.push(result);
      first.resolve();
    },
    onException(error) {
      failures.push(error);
      first.resolve();
    },
  };
  return { callback, successes, failures, settled: first.promise };
}

/** Collects unhandled rejections while a test runs. */
function trackUnhandled(): { reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on("unhandledRejection", listener);
  return { reasons, stop: () => process.off("unhandledRejection", listener) };
}

/** Java-style |hash % n|, as RocketMQ's SelectMessageQueueByHash. */
function hashIndex(key: string, n: number): number {
  return Math.abs(javaStringHash(key) % n);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("callback-form send", () => {
  // The waits for a second callback (which must not come) run on a driven clock: no fake
  // broker here takes time to answer.
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it("resolves once it holds a slot and calls onSuccess exactly once with the SendResult", async () => {
    const gate = deferred();
    const cluster = fakeCluster({ T: TWO_BROKERS }, async () => {
      await gate.promise;
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch);
    const rec = recordingCallback();
    const returned = await producer.send({ topic: "T", body: "x" }, rec.callback);
    expect(returned).toBeUndefined();
    // The send resolved while the broker has not answered yet.
    await vi.waitFor(() => expect(cluster.posts.length).toBe(1));
    expect(rec.successes.length + rec.failures.length).toBe(0);
    gate.resolve();
    await rec.settled;
    await vi.advanceTimersByTimeAsync(20);
    expect(rec.successes.length).toBe(1);
    expect(rec.failures.length).toBe(0);
    expect(rec.successes[0]!.msgId).toBe(cluster.posts[0]!.messages[0]!.msgId);
    expect(rec.successes[0]!.messageQueue).toEqual({ topic: "T", brokerName: "broker-a", queueId: 0 });
    expect(producer.inflightStats.inUse).toBe(0);
  });

  it("calls onException exactly once with the error when the send fails", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "VALIDATION_FAILED");
    const producer = await startedProducer(cluster.fetch);
    const rec = recordingCallback();
    await producer.send({ topic: "T", body: "x" }, rec.callback);
    await rec.settled;
    await vi.advanceTimersByTimeAsync(20);
    expect(rec.successes.length).toBe(0);
    expect(rec.failures.map(codeOfError)).toEqual(["VALIDATION_FAILED"]);
    expect(cluster.posts.length).toBe(1);
    expect(producer.inflightStats.inUse).toBe(0);
  });

  it("reports a message refused before any network call through onException, not by rejecting", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const rec = recordingCallback();
    expect(await codeOf(producer.send({ topic: "bad topic", body: "x" }, rec.callback))).toBe("NO_ERROR");
    await rec.settled;
    await vi.advanceTimersByTimeAsync(10);
    expect(rec.failures.map(codeOfError)).toEqual(["INVALID_TOPIC_NAME"]);
    expect(rec.successes.length).toBe(0);
    expect(cluster.posts.length + cluster.routeGets.length).toBe(0);
  });

  it("rejects (and calls no callback) when the producer is not started", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = new Producer({ endpoint: "http://mq.test", fetch: cluster.fetch, group: "PG", sendChannels: false });
    const rec = recordingCallback();
    expect(await codeOf(producer.send({ topic: "T", body: "x" }, rec.callback))).toBe("BAD_REQUEST");
    await vi.advanceTimersByTimeAsync(10);
    expect(rec.successes.length + rec.failures.length).toBe(0);
  });

  it("retries retryTimesWhenSendAsyncFailed times (default 2), with the same msgId", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch);
    const rec = recordingCallback();
    await producer.send({ topic: "T", body: "x" }, rec.callback);
    await rec.settled;
    await vi.advanceTimersByTimeAsync(10);
    expect(cluster.posts.length).toBe(3);
    expect(cluster.posts.map((p) => p.brokerName)).toEqual(["broker-a", "broker-b", "broker-a"]);
    expect(new Set(cluster.posts.map((p) => p.messages[0]!.msgId)).size).toBe(1);
    expect(rec.failures.map(codeOfError)).toEqual(["SERVICE_UNAVAILABLE"]);
    expect(rec.successes.length).toBe(0);
  });

  it.each([0, 1, 4])("retries exactly retryTimesWhenSendAsyncFailed = %i times, not retryTimesWhenSendFailed", async (n) => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch, { retryTimesWhenSendAsyncFailed: n, retryTimesWhenSendFailed: 7 });
    const rec = recordingCallback();
    await producer.send({ topic: "T", body: "x" }, rec.callback);
    await rec.settled;
    await vi.advanceTimersByTimeAsync(10);
    expect(cluster.posts.length).toBe(1 + n);
    expect(rec.failures.length).toBe(1);
    expect(rec.successes.length).toBe(0);
    // The synchronous form still uses retryTimesWhenSendFailed.
    expect(await codeOf(producer.send({ topic: "T", body: "y" }))).toBe("SERVICE_UNAVAILABLE");
    expect(cluster.posts.length).toBe(1 + n + 8);
  });

  it("calls onSuccess once after a retry succeeds", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.seq === 1 ? "NETWORK" : "OK"));
    const producer = await startedProducer(cluster.fetch);
    const rec = recordingCallback();
    await producer.send({ topic: "T", body: "x" }, rec.callback);
    await rec.settled;
    await vi.advanceTimersByTimeAsync(10);
    expect(cluster.posts.map(where)).toEqual(["broker-a:0", "broker-b:0"]);
    expect(rec.successes.length).toBe(1);
    expect(rec.failures.length).toBe(0);
    expect(rec.successes[0]!.msgId).toBe(cluster.posts[0]!.messages[0]!.msgId);
  });

  it("a throwing onSuccess is not reported as onException, leaks no unhandled rejection and frees its slot", async () => {
    const unhandled = trackUnhandled();
    try {
      const cluster = fakeCluster({ T: TWO_BROKERS });
      const producer = await startedProducer(cluster.fetch, { maxInflightSends: 1 });
      let successes = 0;
      let failures = 0;
      await producer.send(
        { topic: "T", body: "x" },
        {
          onSuccess() {
            successes++;
            throw new Error("application bug in onSuccess");
          },
          onException() {
            failures++;
          },
        },
      );
      await vi.waitFor(() => expect(successes).toBe(1));
      await vi.advanceTimersByTimeAsync(30);
      expect(failures).toBe(0);
      expect(unhandled.reasons).toEqual([]);
      // The one slot was released: another send goes through.
      expect(await codeOf(producer.send({ topic: "T", body: "y" }))).toBe("NO_ERROR");
      expect(producer.inflightStats.inUse).toBe(0);
    } finally {
      unhandled.stop();
    }
  });

  it("a throwing onException leaks no unhandled rejection and frees its slot", async () => {
    const unhandled = trackUnhandled();
    try {
      const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.seq === 1 ? "VALIDATION_FAILED" : "OK"));
      const producer = await startedProducer(cluster.fetch, { maxInflightSends: 1 });
      let failures = 0;
      await producer.send(
        { topic: "T", body: "x" },
        {
          onSuccess() {},
          onException() {
            failures++;
            throw new Error("application bug in onException");
          },
        },
      );
      await vi.waitFor(() => expect(failures).toBe(1));
      await vi.advanceTimersByTimeAsync(30);
      expect(failures).toBe(1);
      expect(unhandled.reasons).toEqual([]);
      expect(await codeOf(producer.send({ topic: "T", body: "y" }))).toBe("NO_ERROR");
    } finally {
      unhandled.stop();
    }
  });
});

describe("maxInflightSends", () => {
  it("caps concurrent requests at 4 for 50 callback sends, and every send completes", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, async (p) => {
      await sleep(1 + (p.seq % 5));
      return "OK" as const;
    });
    // Requests, not batches, are counted here: auto-batching would carry several sends in one.
    const producer = await startedProducer(cluster.fetch, { maxInflightSends: 4, autoBatch: false });
    const recs = Array.from({ length: 50 }, () => recordingCallback());
    for (let i = 0; i < 50; i++) {
      await producer.send({ topic: "T", body: `m${i}` }, recs[i]!.callback);
      expect(producer.inflightStats.inUse).toBeLessThanOrEqual(4);
      expect(cluster.state.inflight).toBeLessThanOrEqual(4);
    }
    await Promise.all(recs.map((r) => r.settled));
    expect(cluster.posts.length).toBe(50);
    expect(cluster.state.maxInflight).toBe(4);
    expect(recs.map((r) => r.successes.length)).toEqual(Array(50).fill(1));
    expect(recs.map((r) => r.failures.length)).toEqual(Array(50).fill(0));
    // A slot is released right after its callback ran.
    await vi.waitFor(() => expect(producer.inflightStats).toEqual({ inUse: 0, peak: 4, max: 4 }));
    // Nothing dropped, nothing sent twice.
    expect(cluster.posts.map((p) => p.messages[0]!.body).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
  });

  it("caps concurrent requests for sends issued all at once without awaiting", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, async (p) => {
      await sleep(1 + (p.seq % 3));
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch, { maxInflightSends: 4, autoBatch: false });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send({ topic: "T", body: `m${i}` })));
    expect(results.length).toBe(50);
    expect(cluster.posts.length).toBe(50);
    expect(cluster.state.maxInflight).toBe(4);
    expect(producer.inflightStats).toEqual({ inUse: 0, peak: 4, max: 4 });
  });

  it("cap 1 makes sends strictly one at a time", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, async () => {
      await sleep(2);
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch, { maxInflightSends: 1 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic: "T", body: `m${i}` })));
    expect(cluster.state.maxInflight).toBe(1);
    expect(cluster.events).toEqual(Array.from({ length: 10 }, (_, i) => [`arrive m${i}`, `respond m${i}`]).flat());
  });

  it("oneway sends count against the cap too", async () => {
    vi.useFakeTimers(); // the wait below, for what must not happen, runs on a driven clock
    const gate = deferred();
    const cluster = fakeCluster({ T: TWO_BROKERS }, async () => {
      await gate.promise;
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch, { maxInflightSends: 2 });
    await producer.sendOneway({ topic: "T", body: "o1" });
    await producer.sendOneway({ topic: "T", body: "o2" });
    let thirdStarted = false;
    const third = producer.sendOneway({ topic: "T", body: "o3" }).then(() => {
      thirdStarted = true;
    });
    await vi.waitFor(() => expect(cluster.posts.length).toBe(2));
    await vi.advanceTimersByTimeAsync(20);
    expect(thirdStarted).toBe(false);
    expect(producer.inflightStats.inUse).toBe(2);
    gate.resolve();
    await third;
    await producer.shutdown();
    expect(cluster.posts.length).toBe(3);
    expect(cluster.state.maxInflight).toBe(2);
  });
});

describe("sendOneway", () => {
  it("posts with ?oneway=true, resolves before the broker answers, and shutdown() waits for it", async () => {
    vi.useFakeTimers(); // the wait below, for what must not happen, runs on a driven clock
    const gate = deferred();
    const cluster = fakeCluster({ T: TWO_BROKERS }, async () => {
      await gate.promise;
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch);
    expect(await producer.sendOneway({ topic: "T", body: "x" })).toBeUndefined();
    await vi.waitFor(() => expect(cluster.posts.length).toBe(1));
    expect(cluster.posts[0]!.query.get("oneway")).toBe("true");
    expect(cluster.state.responded).toBe(0);

    let shutDown = false;
    const shutdown = producer.shutdown().then(() => {
      shutDown = true;
    });
    await vi.advanceTimersByTimeAsync(30);
    expect(shutDown).toBe(false);
    gate.resolve();
    await shutdown;
    expect(cluster.state.responded).toBe(1);
    expect(producer.inflightStats.inUse).toBe(0);
  });

  it("plain sends carry no oneway parameter", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    await producer.send({ topic: "T", body: "x" });
    const rec = recordingCallback();
    await producer.send({ topic: "T", body: "y" }, rec.callback);
    await rec.settled;
    expect(cluster.posts.map((p) => p.query.has("oneway"))).toEqual([false, false]);
  });

  it("does not retry and does not report a failure", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.sendOneway({ topic: "T", body: "x" }))).toBe("NO_ERROR");
    await producer.shutdown();
    expect(cluster.posts.length).toBe(1);
    expect(cluster.posts[0]!.query.get("oneway")).toBe("true");
  });

  it("shutdown() waits for every oneway send in flight", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, async (p) => {
      await sleep(40 - p.seq * 5);
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch);
    for (let i = 0; i < 5; i++) await producer.sendOneway({ topic: "T", body: `o${i}` });
    await producer.shutdown();
    expect(cluster.posts.length).toBe(5);
    expect(cluster.state.responded).toBe(5);
    expect(cluster.posts.every((p) => p.query.get("oneway") === "true")).toBe(true);
  });

  it("is refused before start() with BAD_REQUEST", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = new Producer({ endpoint: "http://mq.test", fetch: cluster.fetch, group: "PG", sendChannels: false });
    expect(await codeOf(producer.sendOneway({ topic: "T", body: "x" }))).toBe("BAD_REQUEST");
    expect(cluster.posts.length).toBe(0);
  });
});

describe("ordered sends by shardingKey", () => {
  it("sends every message of a key to the queue its hash picks", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    for (const key of ["order-A", "order-B", "polygenelubricants", "hello"]) {
      for (let i = 0; i < 3; i++) {
        const r = await producer.send({ topic: "T", body: `${key}-${i}` }, { shardingKey: key });
        expect(r.messageQueue).toEqual(WRITE_QUEUES[hashIndex(key, 8)]);
      }
    }
    // order-A -> 6 (broker-b:2), order-B -> 5 (broker-b:1), polygenelubricants -> 0, hello -> 2
    expect(cluster.posts.map(where)).toEqual([
      ...Array(3).fill("broker-b:2"),
      ...Array(3).fill("broker-b:1"),
      ...Array(3).fill("broker-a:0"),
      ...Array(3).fill("broker-a:2"),
    ]);
  });

  it("keeps call order at the broker when sends are not awaited, even when earlier answers are slower", async () => {
    const N = 10;
    const cluster = fakeCluster({ T: TWO_BROKERS }, async (p) => {
      // Earlier messages are answered later: m0 waits longest.
      const i = Number(p.messages[0]!.body.slice(1));
      await sleep((N - i) * 4);
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch);
    const sends = Array.from({ length: N }, (_, i) => producer.send({ topic: "T", body: `m${i}` }, { shardingKey: "order-A" }));
    const results = await Promise.all(sends);
    expect(cluster.posts.map((p) => p.messages[0]!.body)).toEqual(Array.from({ length: N }, (_, i) => `m${i}`));
    // Strictly one at a time: each request arrives only after the previous was answered.
    expect(cluster.events).toEqual(Array.from({ length: N }, (_, i) => [`arrive m${i}`, `respond m${i}`]).flat());
    expect(new Set(cluster.posts.map(where))).toEqual(new Set(["broker-b:2"]));
    expect(results.map((r) => r.msgId)).toEqual(cluster.posts.map((p) => p.messages[0]!.msgId));
    expect(results.map((r) => r.queueOffset)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  });

  it("keeps call order for callback-form sends of one key", async () => {
    const N = 8;
    const cluster = fakeCluster({ T: TWO_BROKERS }, async (p) => {
      const i = Number(p.messages[0]!.body.slice(1));
      await sleep((N - i) * 3);
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch);
    const done: number[] = [];
    const recs = Array.from({ length: N }, () => recordingCallback());
    for (let i = 0; i < N; i++) {
      await producer.send({ topic: "T", body: `m${i}` }, recs[i]!.callback, { shardingKey: "k-1" });
      void recs[i]!.settled.then(() => done.push(i));
    }
    await Promise.all(recs.map((r) => r.settled));
    expect(cluster.events).toEqual(Array.from({ length: N }, (_, i) => [`arrive m${i}`, `respond m${i}`]).flat());
    expect(done).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(recs.map((r) => r.successes.length)).toEqual(Array(N).fill(1));
  });

  it("does not serialise different keys against each other", async () => {
    const gateA = deferred();
    const cluster = fakeCluster({ T: TWO_BROKERS }, async (p) => {
      if (p.messages[0]!.body === "A0") await gateA.promise;
      return "OK" as const;
    });
    // Per request: auto-batching would carry B0 in A0's request (another queue), which the gate holds.
    const producer = await startedProducer(cluster.fetch, { autoBatch: false });
    const a0 = producer.send({ topic: "T", body: "A0" }, { shardingKey: "order-A" });
    const a1 = producer.send({ topic: "T", body: "A1" }, { shardingKey: "order-A" });
    const b0 = await producer.send({ topic: "T", body: "B0" }, { shardingKey: "order-B" });
    // order-B finished while order-A's first send is still held, and A1 has not been sent.
    expect(where(b0.messageQueue)).toBe("broker-b:1");
    expect(cluster.posts.map((p) => p.messages[0]!.body).sort()).toEqual(["A0", "B0"]);
    gateA.resolve();
    await Promise.all([a0, a1]);
    expect(cluster.posts.map((p) => p.messages[0]!.body)).toContain("A1");
    expect(cluster.posts.filter((p) => p.messages[0]!.body.startsWith("A")).map((p) => p.messages[0]!.body)).toEqual(["A0", "A1"]);
  });

  it("the same key on different topics is not serialised", async () => {
    const gate = deferred();
    const cluster = fakeCluster({ T: TWO_BROKERS, U: route(qd("broker-a", 6, 2)) }, async (p) => {
      if (p.topic === "T") await gate.promise;
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch);
    const t = producer.send({ topic: "T", body: "t" }, { shardingKey: "k" });
    const u = await producer.send({ topic: "U", body: "u" }, { shardingKey: "k" });
    expect(u.messageQueue.topic).toBe("U");
    gate.resolve();
    expect((await t).messageQueue.topic).toBe("T");
  });

  it.each(["SERVICE_UNAVAILABLE", "INTERNAL_ERROR", "NETWORK"] as const)("retries a %s failure on the SAME queue with the same msgId", async (failure) => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.seq <= 2 ? failure : "OK"));
    const producer = await startedProducer(cluster.fetch);
    const r = await producer.send({ topic: "T", body: "x" }, { shardingKey: "order-A" });
    expect(cluster.posts.map(where)).toEqual(["broker-b:2", "broker-b:2", "broker-b:2"]);
    expect(new Set(cluster.posts.map((p) => p.messages[0]!.msgId)).size).toBe(1);
    expect(r.msgId).toBe(cluster.posts[0]!.messages[0]!.msgId);
    expect(where(r.messageQueue)).toBe("broker-b:2");
  });

  it("gives up after 1 + retryTimesWhenSendFailed attempts, all on the same queue", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch, { retryTimesWhenSendFailed: 3 });
    expect(await codeOf(producer.send({ topic: "T", body: "x" }, { shardingKey: "order-B" }))).toBe("SERVICE_UNAVAILABLE");
    expect(cluster.posts.map(where)).toEqual(Array(4).fill("broker-b:1"));
    expect(new Set(cluster.posts.map((p) => p.messages[0]!.msgId)).size).toBe(1);
  });

  it("retries a callback-form ordered send on the same queue", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch, { retryTimesWhenSendAsyncFailed: 2 });
    const rec = recordingCallback();
    await producer.send({ topic: "T", body: "x" }, rec.callback, { shardingKey: "order-A" });
    await rec.settled;
    expect(cluster.posts.map(where)).toEqual(Array(3).fill("broker-b:2"));
    expect(rec.failures.map(codeOfError)).toEqual(["SERVICE_UNAVAILABLE"]);
  });

  it("does not retry a non-retriable failure, and the next send of the key still goes out", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.seq === 1 ? "VALIDATION_FAILED" : "OK"));
    const producer = await startedProducer(cluster.fetch);
    const first = producer.send({ topic: "T", body: "m0" }, { shardingKey: "order-A" });
    const second = producer.send({ topic: "T", body: "m1" }, { shardingKey: "order-A" });
    expect(await codeOf(first)).toBe("VALIDATION_FAILED");
    expect(await codeOf(second)).toBe("NO_ERROR");
    expect(cluster.posts.map((p) => `${p.messages[0]!.body}@${where(p)}`)).toEqual(["m0@broker-b:2", "m1@broker-b:2"]);
  });
});

describe("ordered sends by selector", () => {
  it("calls the selector once with (write queues, the message, arg) and sends to its choice", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const calls: { mqs: readonly MessageQueue[]; message: Message; arg: unknown }[] = [];
    const selector: MessageQueueSelector = (mqs, message, arg) => {
      calls.push({ mqs, message, arg });
      return mqs[(arg as { orderId: number }).orderId % mqs.length]!;
    };
    const message: Message = { topic: "T", body: "x", tags: "TagA" };
    const arg = { orderId: 13 };
    const r = await producer.send(message, { selector, arg });
    expect(calls.length).toBe(1);
    expect(calls[0]!.mqs).toEqual(WRITE_QUEUES);
    expect(calls[0]!.message).toBe(message);
    expect(calls[0]!.arg).toBe(arg);
    expect(where(r.messageQueue)).toBe("broker-b:1"); // 13 % 8 = 5
    expect(cluster.posts.map(where)).toEqual(["broker-b:1"]);
  });

  it("retries on the selected queue only and does not call the selector again", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.seq < 3 ? "SERVICE_UNAVAILABLE" : "OK"));
    const producer = await startedProducer(cluster.fetch);
    let calls = 0;
    const selector: MessageQueueSelector = (mqs) => {
      calls++;
      return mqs[3]!;
    };
    const r = await producer.send({ topic: "T", body: "x" }, { selector, arg: 1 });
    expect(calls).toBe(1);
    expect(cluster.posts.map(where)).toEqual(["broker-a:3", "broker-a:3", "broker-a:3"]);
    expect(new Set(cluster.posts.map((p) => p.messages[0]!.msgId)).size).toBe(1);
    expect(where(r.messageQueue)).toBe("broker-a:3");
  });

  it("serialises sends with the same arg in call order", async () => {
    const N = 6;
    const cluster = fakeCluster({ T: TWO_BROKERS }, async (p) => {
      const i = Number(p.messages[0]!.body.slice(1));
      await sleep((N - i) * 4);
      return "OK" as const;
    });
    const producer = await startedProducer(cluster.fetch);
    const selector: MessageQueueSelector = (mqs) => mqs[0]!;
    await Promise.all(Array.from({ length: N }, (_, i) => producer.send({ topic: "T", body: `m${i}` }, { selector, arg: "order-9" })));
    expect(cluster.events).toEqual(Array.from({ length: N }, (_, i) => [`arrive m${i}`, `respond m${i}`]).flat());
  });

  it("refuses a queue that is not a write queue of the topic with BAD_REQUEST and sends nothing", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const selector: MessageQueueSelector = () => ({ topic: "T", brokerName: "broker-a", queueId: 9 });
    expect(await codeOf(producer.send({ topic: "T", body: "x" }, { selector, arg: 1 }))).toBe("BAD_REQUEST");
    const otherTopic: MessageQueueSelector = () => ({ topic: "U", brokerName: "broker-a", queueId: 0 });
    expect(await codeOf(producer.send({ topic: "T", body: "x" }, { selector: otherTopic, arg: 1 }))).toBe("BAD_REQUEST");
    expect(cluster.posts.length).toBe(0);
  });
});

describe("batch send", () => {
  it("posts all messages of the batch in one request, in order, each with its own msgId", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const batch: Message[] = [
      { topic: "T", body: "one", tags: "A" },
      { topic: "T", body: Uint8Array.from([1, 2, 3]), keys: "k2" },
      { topic: "T", body: "three", properties: { p: "3" } },
    ];
    const r = await producer.send(batch);
    expect(cluster.posts.length).toBe(1);
    const [post] = cluster.posts;
    expect(Object.keys(post!.body)).toEqual(["messages"]);
    expect(post!.messages.map((m) => m.body)).toEqual(["one", "AQID", "three"]);
    expect(post!.messages.map((m) => m.bodyEncoding)).toEqual(["utf8", undefined, "utf8"]);
    expect(post!.messages[0]!.tags).toBe("A");
    expect(post!.messages[1]!.keys).toEqual(["k2"]);
    expect(post!.messages[2]!.properties).toEqual({ p: "3" });
    const ids = post!.messages.map((m) => m.msgId);
    expect(new Set(ids).size).toBe(3);
    expect(r.msgIds).toEqual(ids);
  });

  it("retries a batch as a whole with the same msgIds", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.seq === 1 ? "SERVICE_UNAVAILABLE" : "OK"));
    const producer = await startedProducer(cluster.fetch);
    await producer.send([
      { topic: "T", body: "a" },
      { topic: "T", body: "b" },
    ]);
    expect(cluster.posts.length).toBe(2);
    expect(cluster.posts[1]!.messages).toEqual(cluster.posts[0]!.messages);
    expect(cluster.posts.map((p) => p.brokerName)).toEqual(["broker-a", "broker-b"]);
  });

  it.each([
    [
      "mixed topics",
      [
        { topic: "T", body: "a" },
        { topic: "U", body: "b" },
      ],
      "MESSAGE_ILLEGAL",
    ],
    [
      "a delay level",
      [
        { topic: "T", body: "a" },
        { topic: "T", body: "b", delayTimeLevel: 2 },
      ],
      "BATCH_DELAY_NOT_SUPPORTED",
    ],
    ["a delivery time", [{ topic: "T", body: "a", deliverTimeMs: 1 }], "BATCH_DELAY_NOT_SUPPORTED"],
    ["no message", [], "MESSAGE_ILLEGAL"],
  ] as [string, Message[], string][])("refuses a batch with %s before any network call", async (_name, batch, code) => {
    const cluster = fakeCluster({ T: TWO_BROKERS, U: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.send(batch))).toBe(code);
    expect(cluster.posts.length + cluster.routeGets.length).toBe(0);
  });

  it("refuses a batch over 4 MiB with MESSAGE_BODY_TOO_LARGE before any network call", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const big = new Uint8Array(1024 * 1024);
    expect(await codeOf(producer.send(Array.from({ length: 5 }, () => ({ topic: "T", body: big }))))).toBe("MESSAGE_BODY_TOO_LARGE");
    expect(cluster.posts.length).toBe(0);
  });
});
