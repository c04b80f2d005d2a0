import { describe, expect, it } from "vitest";
import { queueIndexForKey } from "../../protocol/sharding-key.js";
import { attemptQueues } from "./topic-send.js";

const queues = ["broker-a", "broker-b"].flatMap((brokerName) => [0, 1, 2, 3].map((queueId) => ({ topic: "T", brokerName, queueId })));
const name = (q: { brokerName: string; queueId: number }) => `${q.brokerName}/${q.queueId}`;

describe("attemptQueues", () => {
  it("sends round robin: consecutive sends start at consecutive queues", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((start) => name(attemptQueues(queues, undefined, start)[0]!))).toEqual([
      "broker-a/0",
      "broker-a/1",
      "broker-a/2",
      "broker-a/3",
      "broker-b/0",
      "broker-b/1",
      "broker-b/2",
      "broker-b/3",
      "broker-a/0",
    ]);
  });

  it("retries on another broker after a failure", () => {
    expect(attemptQueues(queues, undefined, 1).map(name)).toEqual(["broker-a/1", "broker-b/0", "broker-a/0"]);
    expect(attemptQueues(queues, undefined, 7).map(name)).toEqual(["broker-b/3", "broker-a/0", "broker-b/0"]);
  });

  it("retries on the same broker when the topic has no other", () => {
    const one = queues.filter((q) => q.brokerName === "broker-a");
    expect(attemptQueues(one, undefined, 2).map(name)).toEqual(["broker-a/2", "broker-a/3", "broker-a/0"]);
  });

  it("sends a sharding key's messages to the key's queue only, as the client's SelectMessageQueueByHash", () => {
    for (const key of ["order-A", "order-B", "", "OrderId-1001"]) {
      const expected = name(queues[queueIndexForKey(key, queues.length)]!);
      expect(attemptQueues(queues, key, 5).map(name)).toEqual([expected, expected, expected]);
    }
  });
});
