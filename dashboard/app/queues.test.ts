import { describe, expect, it } from "vitest";
import type { TopicRouteData } from "../../protocol/route.js";
import { queueLabel, RoundRobin, routeQueues } from "./queues.js";

const route: TopicRouteData = {
  brokerDatas: [],
  queueDatas: [
    { brokerName: "broker-b", readQueueNums: 2, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
    { brokerName: "broker-a", readQueueNums: 1, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
    { brokerName: "broker-c", readQueueNums: 1, writeQueueNums: 1, perm: 4, topicSysFlag: 0 },
  ],
};

describe("routeQueues", () => {
  it("lists write queues of writable brokers, brokers in name order", () => {
    expect(routeQueues("T", route, "write").map(queueLabel)).toEqual(["broker-a:0", "broker-a:1", "broker-b:0"]);
  });

  it("lists read queues of readable brokers, brokers in name order", () => {
    expect(routeQueues("T", route, "read").map(queueLabel)).toEqual(["broker-a:0", "broker-b:0", "broker-b:1", "broker-c:0"]);
    expect(routeQueues("T", route, "read").every((q) => q.topic === "T")).toBe(true);
  });
});

describe("RoundRobin", () => {
  it("goes round each topic's queues on its own, and has nothing for no queues", () => {
    const rr = new RoundRobin();
    const picks = [rr.pick("T", [1, 2, 3]), rr.pick("T", [1, 2, 3]), rr.pick("U", [7, 8]), rr.pick("T", [1, 2, 3]), rr.pick("T", [1, 2, 3])];
    expect(picks).toEqual([1, 2, 7, 3, 1]);
    expect(rr.pick("V", [])).toBeUndefined();
  });
});
