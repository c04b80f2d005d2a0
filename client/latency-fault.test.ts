import { describe, expect, it } from "vitest";
import { LatencyFaultTolerance } from "./latency-fault.js";
import { Producer } from "./producer.js";
import { withMultiSend } from "./test-support/multi-send.js";

describe("LatencyFaultTolerance", () => {
  it("avoids a broker for RocketMQ's duration per latency band, and a failed one for 600 s", () => {
    let now = 1_000_000;
    const f = new LatencyFaultTolerance({ now: () => now });
    f.update("fast", 40, false);
    f.update("slow", 600, false); // >= 550 ms: 30 s
    f.update("slower", 2500, false); // >= 2000 ms: 120 s
    f.update("down", 5, true); // a failure counts as 30000 ms: 600 s
    expect(["fast", "slow", "slower", "down", "unknown"].map((b) => f.isAvailable(b))).toEqual([true, false, false, false, true]);
    now += 30_000;
    expect(["slow", "slower", "down"].map((b) => f.isAvailable(b))).toEqual([true, false, false]);
    now += 90_000;
    expect(f.isAvailable("slower")).toBe(true);
    expect(f.isAvailable("down")).toBe(false);
    now += 480_000;
    expect(f.isAvailable("down")).toBe(true);
  });

  it("picks the least bad broker when all are avoided", () => {
    const now = 0;
    const f = new LatencyFaultTolerance({ now: () => now });
    f.update("a", 5, true);
    f.update("b", 1200, false);
    expect(f.pickOneAtLeast(["a", "b"])).toBe("b");
  });
});

describe("Producer with sendLatencyFaultEnable", () => {
  const route = {
    brokerDatas: [
      { cluster: "C", brokerName: "broker-a", brokerAddrs: { "0": "/brokers/broker-a" } },
      { cluster: "C", brokerName: "broker-b", brokerAddrs: { "0": "/brokers/broker-b" } },
    ],
    queueDatas: [
      { brokerName: "broker-a", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
      { brokerName: "broker-b", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
    ],
  };

  function deployment(down: Set<string>) {
    const sends: string[] = [];
    const perQueue = async (input: string): Promise<Response> => {
      const url = new URL(input);
      if (url.pathname.endsWith("/route")) return Response.json(route);
      const broker = url.pathname.split("/")[2]!;
      sends.push(broker);
      if (down.has(broker)) return Response.json({ code: "SERVICE_UNAVAILABLE", message: "down" }, { status: 503 });
      const queueId = Number(url.pathname.split("/")[6]);
      return Response.json({
        sendStatus: "SEND_OK",
        msgId: "M",
        offsetMsgId: "O",
        messageQueue: { topic: "T", brokerName: broker, queueId },
        queueOffset: 0,
        msgIds: ["M"],
        offsetMsgIds: ["O"],
      });
    };
    return { fetch: withMultiSend(perQueue), sends };
  }

  it("stops choosing a failed broker until its isolation ends, then tries it again", async () => {
    let now = 5_000_000;
    const down = new Set(["broker-a"]);
    const { fetch, sends } = deployment(down);
    const producer = new Producer({
      endpoint: "http://flaremq.test",
      group: "pg",
      fetch,
      credentials: null,
      sendChannels: false,
      sendLatencyFaultEnable: true,
      latencyFault: { now: () => now },
    });
    await producer.start();
    for (let i = 0; i < 8; i++) expect((await producer.send({ topic: "T", body: "x" })).messageQueue.brokerName).toBe("broker-b");
    // broker-a was tried at most once (and failed); after that every send avoided it.
    expect(sends.filter((b) => b === "broker-a").length).toBeLessThanOrEqual(1);
    down.clear();
    now += 600_000;
    const brokers = new Set<string>();
    for (let i = 0; i < 8; i++) brokers.add((await producer.send({ topic: "T", body: "x" })).messageQueue.brokerName);
    expect([...brokers].sort()).toEqual(["broker-a", "broker-b"]);
  });

  it("keeps plain round-robin when disabled (RocketMQ's default)", async () => {
    const { fetch, sends } = deployment(new Set(["broker-a"]));
    const producer = new Producer({ endpoint: "http://flaremq.test", group: "pg", fetch, credentials: null, sendChannels: false });
    await producer.start();
    for (let i = 0; i < 6; i++) await producer.send({ topic: "T", body: "x" });
    // Each send that lands on broker-a first fails there and retries on broker-b.
    expect(sends.filter((b) => b === "broker-a").length).toBeGreaterThanOrEqual(2);
  });
});
