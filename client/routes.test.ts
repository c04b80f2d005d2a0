import { describe, expect, it } from "vitest";
import type { MessageQueue } from "../protocol/message.js";
import type { QueueData, TopicRouteData } from "../protocol/route.js";
import { brokerPath, publishQueues, readQueues, RouteCache, writeQueues } from "./routes.js";
import { Transport, type FetchLike } from "./transport.js";
import { codeOf } from "./test-support/producers.js";

function qd(brokerName: string, perm: number, writeQueueNums: number, readQueueNums: number): QueueData {
  return { brokerName, perm, writeQueueNums, readQueueNums, topicSysFlag: 0 };
}

function route(...queueDatas: QueueData[]): TopicRouteData {
  return {
    brokerDatas: queueDatas.map((q) => ({ cluster: "c", brokerName: q.brokerName, brokerAddrs: { "0": `/brokers/${q.brokerName}` } })),
    queueDatas,
  };
}

/** Compact form of a queue list: "broker:queueId". */
function ids(queues: MessageQueue[]): string[] {
  return queues.map((q) => `${q.brokerName}:${q.queueId}`);
}

// Listed deliberately out of name order: queues follow the route's order.
const MIXED = route(
  qd("broker-b", 2, 2, 8), // write only
  qd("broker-a", 6, 4, 4), // read and write
  qd("broker-c", 4, 4, 3), // read only
  qd("broker-d", 0, 4, 4), // no permission
  qd("broker-e", 7, 1, 1), // read, write, inherit
  qd("broker-f", 6, 0, 2), // no write queues
  qd("broker-g", 8, 3, 3), // priority bit only
);

describe("writeQueues", () => {
  it("lists writable brokers' write queues in route order, then queueId", () => {
    const queues = writeQueues("T", MIXED);
    expect(ids(queues)).toEqual(["broker-b:0", "broker-b:1", "broker-a:0", "broker-a:1", "broker-a:2", "broker-a:3", "broker-e:0"]);
    for (const q of queues) expect(q.topic).toBe("T");
  });

  it("limits each broker to limitPerBroker queues", () => {
    expect(ids(writeQueues("T", MIXED, 1))).toEqual(["broker-b:0", "broker-a:0", "broker-e:0"]);
    expect(ids(writeQueues("T", MIXED, 3))).toEqual(["broker-b:0", "broker-b:1", "broker-a:0", "broker-a:1", "broker-a:2", "broker-e:0"]);
    expect(writeQueues("T", MIXED, 0)).toEqual([]);
    expect(writeQueues("T", MIXED, 100)).toEqual(writeQueues("T", MIXED));
  });

  it("is empty for an empty route", () => {
    expect(writeQueues("T", route())).toEqual([]);
  });
});

describe("readQueues", () => {
  it("lists readable brokers' read queues in route order, then queueId", () => {
    const queues = readQueues("T", MIXED);
    expect(ids(queues)).toEqual([
      "broker-a:0",
      "broker-a:1",
      "broker-a:2",
      "broker-a:3",
      "broker-c:0",
      "broker-c:1",
      "broker-c:2",
      "broker-e:0",
      "broker-f:0",
      "broker-f:1",
    ]);
    for (const q of queues) expect(q.topic).toBe("T");
  });
});

describe("brokerPath", () => {
  it("builds the queue path with encoded segments", () => {
    expect(brokerPath({ topic: "TopicTest", brokerName: "broker-a", queueId: 3 })).toBe("/brokers/broker-a/topics/TopicTest/queues/3");
    expect(brokerPath({ topic: "%RETRY%g|x", brokerName: "b", queueId: 0 })).toBe("/brokers/b/topics/%25RETRY%25g%7Cx/queues/0");
  });
});

/** A NameServer that serves routes by topic; anything else is 404 TOPIC_NOT_EXIST. */
function nameServer(routes: Record<string, TopicRouteData | number>) {
  const calls: string[] = [];
  const fetch: FetchLike = async (input) => {
    const path = decodeURIComponent(new URL(input).pathname);
    calls.push(path);
    const m = /^\/namesrv\/topics\/(.+)\/route$/.exec(path);
    const r = m ? routes[m[1]!] : undefined;
    if (typeof r === "number") return Response.json({ code: "SERVICE_UNAVAILABLE", message: "down" }, { status: r });
    if (r) return Response.json(r);
    return Response.json({ code: "TOPIC_NOT_EXIST", message: "no route" }, { status: 404 });
  };
  return { calls, transport: new Transport({ endpoint: "http://ns.test", fetch }) };
}

describe("RouteCache", () => {
  it("fetches once within the refresh interval", async () => {
    const ns = nameServer({ T: route(qd("broker-a", 6, 2, 2)) });
    const cache = new RouteCache(ns.transport, 60_000);
    const r1 = await cache.get("T");
    const r2 = await cache.get("T");
    expect(r2).toEqual(r1);
    expect(ns.calls).toEqual(["/namesrv/topics/T/route"]);
  });

  it("refetches after invalidate and when the interval has passed", async () => {
    const ns = nameServer({ T: route(qd("broker-a", 6, 2, 2)) });
    const cache = new RouteCache(ns.transport, 60_000);
    await cache.get("T");
    cache.invalidate("T");
    await cache.get("T");
    expect(ns.calls.length).toBe(2);

    const ns0 = nameServer({ T: route(qd("broker-a", 6, 2, 2)) });
    const eager = new RouteCache(ns0.transport, 0);
    await eager.get("T");
    await eager.get("T");
    expect(ns0.calls.length).toBe(2);
  });

  it("does not cache failures", async () => {
    const ns = nameServer({});
    const cache = new RouteCache(ns.transport, 60_000);
    expect(await codeOf(cache.get("T"))).toBe("TOPIC_NOT_EXIST");
    expect(await codeOf(cache.get("T"))).toBe("TOPIC_NOT_EXIST");
    expect(ns.calls.length).toBe(2);
  });
});

describe("publishQueues", () => {
  it("uses the topic's own route when it exists", async () => {
    const ns = nameServer({ T: route(qd("broker-a", 6, 8, 8)), TBW102: route(qd("broker-a", 7, 8, 8)) });
    const queues = await publishQueues(new RouteCache(ns.transport, 60_000), "T", 2);
    expect(ids(queues)).toEqual(["broker-a:0", "broker-a:1", "broker-a:2", "broker-a:3", "broker-a:4", "broker-a:5", "broker-a:6", "broker-a:7"]);
    expect(ns.calls).toEqual(["/namesrv/topics/T/route"]);
  });

  it("falls back to TBW102 limited to defaultTopicQueueNums for an unknown topic", async () => {
    const ns = nameServer({ TBW102: route(qd("broker-a", 7, 8, 8), qd("broker-b", 7, 8, 8)) });
    const queues = await publishQueues(new RouteCache(ns.transport, 60_000), "NewTopic", 3);
    expect(ids(queues)).toEqual(["broker-a:0", "broker-a:1", "broker-a:2", "broker-b:0", "broker-b:1", "broker-b:2"]);
    for (const q of queues) expect(q.topic).toBe("NewTopic");
    expect(ns.calls).toEqual(["/namesrv/topics/NewTopic/route", "/namesrv/topics/TBW102/route"]);
  });

  it("keeps TOPIC_NOT_EXIST when the template is not inheritable", async () => {
    const ns = nameServer({ TBW102: route(qd("broker-a", 6, 8, 8)) });
    expect(await codeOf(publishQueues(new RouteCache(ns.transport, 60_000), "NewTopic", 4))).toBe("TOPIC_NOT_EXIST");
  });

  it("keeps TOPIC_NOT_EXIST when there is no template", async () => {
    const ns = nameServer({});
    expect(await codeOf(publishQueues(new RouteCache(ns.transport, 60_000), "NewTopic", 4))).toBe("TOPIC_NOT_EXIST");
    expect(ns.calls).toEqual(["/namesrv/topics/NewTopic/route", "/namesrv/topics/TBW102/route"]);
  });

  it("keeps TOPIC_NOT_EXIST when the template fetch fails otherwise", async () => {
    const ns = nameServer({ TBW102: 503 });
    expect(await codeOf(publishQueues(new RouteCache(ns.transport, 60_000), "NewTopic", 4))).toBe("TOPIC_NOT_EXIST");
  });

  it("passes other route failures through without trying the template", async () => {
    const ns = nameServer({ T: 503, TBW102: route(qd("broker-a", 7, 8, 8)) });
    expect(await codeOf(publishQueues(new RouteCache(ns.transport, 60_000), "T", 4))).toBe("SERVICE_UNAVAILABLE");
    expect(ns.calls).toEqual(["/namesrv/topics/T/route"]);
  });
});
