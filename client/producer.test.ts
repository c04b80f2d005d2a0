import { afterEach, describe, expect, it, vi } from "vitest";
import { isMQError, type ErrorCode, ErrorCodes } from "../protocol/errors.js";
import type { SendResult } from "../protocol/message.js";
import type { TopicRouteData } from "../protocol/route.js";
import type { MessageIn } from "../protocol/schemas.js";
import { Producer } from "./producer.js";
import type { FetchLike } from "./transport.js";
import { qd, route, routeAnswer, TWO_BROKERS } from "./test-support/routes.js";
import { codeOf, startedProducer } from "./test-support/producers.js";
import { withMultiSend } from "./test-support/multi-send.js";

interface Post {
  brokerName: string;
  topic: string;
  queueId: number;
  messages: MessageIn[];
}

type SendAnswer = ErrorCode | "OK" | "HANG" | "NETWORK";

/**
 * A fake deployment: GET /namesrv/topics/:t/route answers from `routes` (404 TOPIC_NOT_EXIST
 * otherwise); POST /brokers/:b/topics/:t/queues/:q/messages answers as `answer` decides.
 */
function fakeCluster(routes: Record<string, TopicRouteData>, answer: (post: Post, n: number) => SendAnswer = () => "OK") {
  const routeGets: string[] = [];
  const posts: Post[] = [];
  const fetch: FetchLike = async (input, init) => {
    const path = new URL(input).pathname;
    const routed = routeAnswer(path, init.method, routes, routeGets);
    if (routed) return routed;
    const s = /^\/brokers\/([^/]+)\/topics\/([^/]+)\/queues\/(\d+)\/messages$/.exec(path);
    if (s && init.method === "POST") {
      const post: Post = {
        brokerName: decodeURIComponent(s[1]!),
        topic: decodeURIComponent(s[2]!),
        queueId: Number(s[3]),
        messages: (JSON.parse(init.body as string) as { messages: MessageIn[] }).messages,
      };
      posts.push(post);
      const a = answer(post, posts.length);
      if (a === "NETWORK") throw new TypeError("fetch failed");
      if (a === "HANG") {
        return new Promise<Response>((_resolve, reject) => {
          const signal = init.signal!;
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      }
      if (a !== "OK") return Response.json({ code: a, message: `broker says ${a}` }, { status: ErrorCodes[a] });
      const msgId = post.messages[0]!.msgId!;
      const result: SendResult = {
        sendStatus: "SEND_OK",
        msgId,
        offsetMsgId: `off-${posts.length}`,
        messageQueue: { topic: post.topic, brokerName: post.brokerName, queueId: post.queueId },
        queueOffset: posts.length,
        msgIds: [msgId],
        offsetMsgIds: [`off-${posts.length}`],
      };
      return Response.json(result);
    }
    return Response.json({ code: "NOT_FOUND", message: path }, { status: 404 });
  };
  return { fetch: withMultiSend(fetch), posts, routeGets };
}

const where = (p: Post): string => `${p.brokerName}:${p.queueId}`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Producer lifecycle and validation", () => {
  it("refuses to send before start() with BAD_REQUEST and no network call", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = new Producer({ endpoint: "http://mq.test", fetch: cluster.fetch, group: "PG", sendChannels: false });
    expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("BAD_REQUEST");
    expect(cluster.routeGets.length + cluster.posts.length).toBe(0);
  });

  it("refuses to send after shutdown()", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("NO_ERROR");
    await producer.shutdown();
    expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("BAD_REQUEST");
    expect(cluster.posts.length).toBe(1);
  });

  it("refuses an illegal group name", () => {
    let code = "NO_ERROR";
    try {
      new Producer({ endpoint: "http://mq.test", fetch: fakeCluster({}).fetch, group: "bad group" });
    } catch (e) {
      code = isMQError(e) ? e.code : "NOT_MQERROR";
    }
    expect(code).toBe("INVALID_GROUP_NAME");
  });

  it("refuses an illegal topic name before any network call", async () => {
    const cluster = fakeCluster({});
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.send({ topic: "bad topic", body: "x" }))).toBe("INVALID_TOPIC_NAME");
    expect(await codeOf(producer.send({ topic: "t".repeat(128), body: "x" }))).toBe("INVALID_TOPIC_NAME");
    expect(cluster.routeGets.length + cluster.posts.length).toBe(0);
  });

  it("refuses a body over the 4 MiB message body limit before any network call, naming that limit", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const refusal = await producer.send({ topic: "T", body: new Uint8Array(5 * 1024 * 1024) }).catch((e: unknown) => e);
    expect(isMQError(refusal) && `${refusal.code}: ${refusal.message}`).toBe(
      "MESSAGE_BODY_TOO_LARGE: message body is 5242880 bytes, over the message body limit of 4 MiB (4,194,304 bytes)",
    );
    expect(cluster.routeGets.length + cluster.posts.length).toBe(0);
  });

  it("refuses a send to a topic no queue of which is writable with NO_PERMISSION naming its permission, not TOPIC_NOT_EXIST", async () => {
    const cluster = fakeCluster({ T: route(qd("broker-a", 4, 2), qd("broker-b", 4, 2)), W: route(qd("broker-a", 2, 2)) });
    const producer = await startedProducer(cluster.fetch);
    for (const options of [{}, { shardingKey: "k" }]) {
      const refusal = await producer.send({ topic: "T", body: "x" }, options).catch((e: unknown) => e);
      expect(isMQError(refusal) && `${refusal.code}: ${refusal.message}`).toBe(
        'NO_PERMISSION: topic "T" is not writable: its permission is 4 (R--) on broker-a, 4 (R--) on broker-b; a send needs W (2 or 6)',
      );
    }
    expect(cluster.posts.length).toBe(0);
    // Write-only is writable.
    expect(await codeOf(producer.send({ topic: "W", body: "x" }))).toBe("NO_ERROR");
  });

  it("refuses a messageQueue of another topic", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const code = await codeOf(producer.send({ topic: "T", body: "x" }, { messageQueue: { topic: "Other", brokerName: "broker-a", queueId: 0 } }));
    expect(code).toBe("BAD_REQUEST");
    expect(cluster.posts.length).toBe(0);
  });
});

describe("Producer.send", () => {
  it("posts the message with a client msgId and returns the broker's SendResult", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const result = await producer.send({ topic: "T", body: "héllo", tags: "TagA", keys: "k1 k2", properties: { p: "v" } });
    expect(cluster.posts.length).toBe(1);
    const [wire] = cluster.posts[0]!.messages;
    expect(cluster.posts[0]!.messages.length).toBe(1);
    expect(/^[0-9A-F]{32}$/.test(wire!.msgId!)).toBe(true);
    expect(wire).toEqual({
      body: "héllo",
      bodyEncoding: "utf8",
      msgId: wire!.msgId,
      bornTimestamp: wire!.bornTimestamp,
      tags: "TagA",
      keys: ["k1", "k2"],
      properties: { p: "v" },
    });
    expect(result.sendStatus).toBe("SEND_OK");
    expect(result.msgId).toBe(wire!.msgId);
    expect(result.messageQueue).toEqual({ topic: "T", brokerName: "broker-a", queueId: 0 });
  });

  it("sends a binary body as base64", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    await producer.send({ topic: "T", body: Uint8Array.from([0, 255, 1]) });
    const [wire] = cluster.posts[0]!.messages;
    expect(wire!.body).toBe("AP8B");
    expect(wire!.bodyEncoding).toBeUndefined();
  });

  it("distributes sends round-robin over all write queues in route order", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    for (let i = 0; i < 16; i++) await producer.send({ topic: "T", body: `m${i}` });
    const order = ["broker-a:0", "broker-a:1", "broker-a:2", "broker-a:3", "broker-b:0", "broker-b:1", "broker-b:2", "broker-b:3"];
    expect(cluster.posts.map(where)).toEqual([...order, ...order]);
    expect(cluster.routeGets).toEqual(["T"]);
    expect(new Set(cluster.posts.map((p) => p.messages[0]!.msgId)).size).toBe(16);
  });

  it("keeps one round-robin position per topic: sends alternating between two topics use every queue of each", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS, U: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    for (let i = 0; i < 16; i++) await producer.send({ topic: i % 2 === 0 ? "T" : "U", body: `m${i}` });
    const order = ["broker-a:0", "broker-a:1", "broker-a:2", "broker-a:3", "broker-b:0", "broker-b:1", "broker-b:2", "broker-b:3"];
    expect(cluster.posts.filter((p) => p.topic === "T").map(where)).toEqual(order);
    expect(cluster.posts.filter((p) => p.topic === "U").map(where)).toEqual(order);
  });

  it("round-robins from a random start position and still covers every queue evenly", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = new Producer({ endpoint: "http://mq.test", fetch: cluster.fetch, group: "PG", sendChannels: false });
    await producer.start();
    for (let i = 0; i < 24; i++) await producer.send({ topic: "T", body: `m${i}` });
    const order = ["broker-a:0", "broker-a:1", "broker-a:2", "broker-a:3", "broker-b:0", "broker-b:1", "broker-b:2", "broker-b:3"];
    const seen = cluster.posts.map(where);
    const start = order.indexOf(seen[0]!);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual(seen.map((_, i) => order[(start + i) % order.length]));
  });

  it("retries a retriable failure on the other broker with the same msgId", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.brokerName === "broker-a" ? "SERVICE_UNAVAILABLE" : "OK"));
    const producer = await startedProducer(cluster.fetch);
    const result = await producer.send({ topic: "T", body: "x" });
    expect(cluster.posts.map(where)).toEqual(["broker-a:0", "broker-b:0"]);
    const [first, second] = cluster.posts;
    expect(second!.messages[0]!.msgId).toBe(first!.messages[0]!.msgId);
    expect(second!.messages).toEqual(first!.messages);
    expect(result.msgId).toBe(first!.messages[0]!.msgId);
    expect(result.messageQueue.brokerName).toBe("broker-b");
  });

  it.each(["INTERNAL_ERROR", "TOO_MANY_WAITERS", "NETWORK", "NO_PERMISSION", "BROKER_NOT_EXIST"] as const)(
    "retries after %s on the other broker",
    async (failure) => {
      const cluster = fakeCluster({ T: TWO_BROKERS }, (p) => (p.brokerName === "broker-a" ? failure : "OK"));
      const producer = await startedProducer(cluster.fetch);
      expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("NO_ERROR");
      expect(cluster.posts.map((p) => p.brokerName)).toEqual(["broker-a", "broker-b"]);
      expect(cluster.posts[1]!.messages[0]!.msgId).toBe(cluster.posts[0]!.messages[0]!.msgId);
    },
  );

  it.each(["NO_PERMISSION", "BROKER_NOT_EXIST"] as const)(
    "refetches the route after a route failure (%s) but not after SERVICE_UNAVAILABLE",
    async (failure) => {
      const c1 = fakeCluster({ T: TWO_BROKERS }, (p) => (p.brokerName === "broker-a" ? failure : "OK"));
      await (await startedProducer(c1.fetch)).send({ topic: "T", body: "x" });
      expect(c1.routeGets).toEqual(["T", "T"]);

      const c2 = fakeCluster({ T: TWO_BROKERS }, (p) => (p.brokerName === "broker-a" ? "SERVICE_UNAVAILABLE" : "OK"));
      await (await startedProducer(c2.fetch)).send({ topic: "T", body: "x" });
      expect(c2.routeGets).toEqual(["T"]);
    },
  );

  it.each(["VALIDATION_FAILED", "MESSAGE_BODY_TOO_LARGE", "SYSTEM_TOPIC_FORBIDDEN", "PROPERTIES_SIZE_EXCEEDED"] as const)(
    "does not retry %s",
    async (failure) => {
      const cluster = fakeCluster({ T: TWO_BROKERS }, () => failure);
      const producer = await startedProducer(cluster.fetch);
      expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe(failure);
      expect(cluster.posts.length).toBe(1);
    },
  );

  it("stops after 1 + retryTimesWhenSendFailed attempts (default 2), alternating brokers", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("SERVICE_UNAVAILABLE");
    expect(cluster.posts.map((p) => p.brokerName)).toEqual(["broker-a", "broker-b", "broker-a"]);
    expect(new Set(cluster.posts.map((p) => p.messages[0]!.msgId)).size).toBe(1);
  });

  it.each([0, 1, 5])("stops after 1 + %i attempts when retryTimesWhenSendFailed is set", async (retryTimesWhenSendFailed) => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch, { retryTimesWhenSendFailed });
    expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("SERVICE_UNAVAILABLE");
    expect(cluster.posts.length).toBe(1 + retryTimesWhenSendFailed);
  });

  it("retries on the same broker when it is the only one", async () => {
    const cluster = fakeCluster({ T: route(qd("broker-a", 6, 2)) }, (_p, n) => (n === 1 ? "SERVICE_UNAVAILABLE" : "OK"));
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("NO_ERROR");
    expect(cluster.posts.map(where)).toEqual(["broker-a:0", "broker-a:1"]);
  });

  it("sends to the given messageQueue only and does not retry", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "SERVICE_UNAVAILABLE");
    const producer = await startedProducer(cluster.fetch);
    const mq = { topic: "T", brokerName: "broker-b", queueId: 3 };
    expect(await codeOf(producer.send({ topic: "T", body: "x" }, { messageQueue: mq }))).toBe("SERVICE_UNAVAILABLE");
    expect(cluster.posts.map(where)).toEqual(["broker-b:3"]);
    expect(cluster.routeGets).toEqual([]);
  });

  it("sends to the given messageQueue on success", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS });
    const producer = await startedProducer(cluster.fetch);
    const mq = { topic: "T", brokerName: "broker-a", queueId: 2 };
    const result = await producer.send({ topic: "T", body: "x" }, { messageQueue: mq });
    expect(result.messageQueue).toEqual(mq);
    expect(cluster.posts.map(where)).toEqual(["broker-a:2"]);
  });

  it("does not retry when the caller aborts", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "HANG");
    const producer = await startedProducer(cluster.fetch);
    const controller = new AbortController();
    const p = producer.send({ topic: "T", body: "x" }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await codeOf(p)).toBe("ABORTED");
    expect(cluster.posts.length).toBe(1);
  });

  it("gives up with TIMEOUT when the send timeout passes", async () => {
    const cluster = fakeCluster({ T: TWO_BROKERS }, () => "HANG");
    const producer = await startedProducer(cluster.fetch, { sendMsgTimeoutMs: 60 });
    const started = Date.now();
    expect(await codeOf(producer.send({ topic: "T", body: "x" }))).toBe("TIMEOUT");
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe("Producer.send to a topic that does not exist yet", () => {
  const TEMPLATE = route(qd("broker-a", 7, 8), qd("broker-b", 7, 8));

  it("uses the TBW102 route limited to defaultTopicQueueNums", async () => {
    const cluster = fakeCluster({ TBW102: TEMPLATE });
    const producer = await startedProducer(cluster.fetch, { defaultTopicQueueNums: 2 });
    for (let i = 0; i < 8; i++) await producer.send({ topic: "NewTopic", body: `m${i}` });
    expect(cluster.posts.map(where)).toEqual(["broker-a:0", "broker-a:1", "broker-b:0", "broker-b:1", "broker-a:0", "broker-a:1", "broker-b:0", "broker-b:1"]);
    for (const p of cluster.posts) expect(p.topic).toBe("NewTopic");
    expect(cluster.routeGets.filter((t) => t === "TBW102").length).toBe(1);
  });

  it("uses 4 queues per broker by default", async () => {
    const cluster = fakeCluster({ TBW102: TEMPLATE });
    const producer = await startedProducer(cluster.fetch);
    for (let i = 0; i < 8; i++) await producer.send({ topic: "NewTopic", body: `m${i}` });
    expect(cluster.posts.map(where)).toEqual(["broker-a:0", "broker-a:1", "broker-a:2", "broker-a:3", "broker-b:0", "broker-b:1", "broker-b:2", "broker-b:3"]);
  });

  it("switches to the topic's own route once it exists", async () => {
    const routes: Record<string, TopicRouteData> = { TBW102: TEMPLATE };
    const cluster = fakeCluster(routes);
    const producer = await startedProducer(cluster.fetch, { defaultTopicQueueNums: 1 });
    await producer.send({ topic: "NewTopic", body: "first" });
    routes["NewTopic"] = route(qd("broker-b", 6, 3));
    for (let i = 0; i < 3; i++) await producer.send({ topic: "NewTopic", body: `m${i}` });
    // The round-robin counter carries on (it stood at 1 after the first send).
    expect(cluster.posts.map(where)).toEqual(["broker-a:0", "broker-b:1", "broker-b:2", "broker-b:0"]);
    for (const p of cluster.posts) expect(p.topic).toBe("NewTopic");
  });

  it("fails with TOPIC_NOT_EXIST and sends nothing when the template is not inheritable", async () => {
    const cluster = fakeCluster({ TBW102: route(qd("broker-a", 6, 8)) });
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.send({ topic: "NewTopic", body: "x" }))).toBe("TOPIC_NOT_EXIST");
    expect(cluster.posts.length).toBe(0);
  });

  it("fails with TOPIC_NOT_EXIST and sends nothing when there is no template", async () => {
    const cluster = fakeCluster({});
    const producer = await startedProducer(cluster.fetch);
    expect(await codeOf(producer.send({ topic: "NewTopic", body: "x" }))).toBe("TOPIC_NOT_EXIST");
    expect(cluster.posts.length).toBe(0);
  });
});
