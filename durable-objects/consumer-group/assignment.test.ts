import { describe, expect, it } from "vitest";
import type { HeartbeatRequest } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import { Perm, type TopicConfig } from "../../protocol/route.js";
import { allocateTopics, isExpired, memberShape, parseQueueKey, queueKey, readQueuesOf, restoredAssignment, sameAssignment } from "./assignment.js";

const q = (topic: string, brokerName: string, queueId: number): MessageQueue => ({ topic, brokerName, queueId });

function route(topic: string, queues: { brokerName: string; readQueueNums: number; perm?: number }[]): TopicConfig {
  return {
    topic,
    queues: queues.map((x) => ({
      brokerName: x.brokerName,
      readQueueNums: x.readQueueNums,
      writeQueueNums: x.readQueueNums,
      perm: x.perm ?? Perm.READ | Perm.WRITE,
      topicSysFlag: 0,
    })),
    createdAt: 0,
    updatedAt: 0,
  };
}

function member(clientId: string, topics: string[], extra: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
  return {
    clientId,
    messageModel: "CLUSTERING",
    subscriptions: topics.map((topic) => ({ topic, expressionType: "TAG", expression: "*" })),
    heartbeatIntervalMs: 1000,
    sessionTimeoutMs: 10_000,
    ...extra,
  };
}

describe("consumer group assignment", () => {
  it("keys a queue by its queue object's name and reads the key back", () => {
    expect(queueKey(q("%RETRY%G", "broker-a", 3))).toBe("broker-a/%RETRY%G/3");
    expect(parseQueueKey("broker-a/%RETRY%G/3")).toEqual(q("%RETRY%G", "broker-a", 3));
    expect(parseQueueKey(queueKey(q("T", "room1@broker-b", 12)))).toEqual(q("T", "room1@broker-b", 12));
  });

  it("reads the readable queues of a route, none of a topic that does not exist", () => {
    expect(readQueuesOf("T", null)).toEqual([]);
    const config = route("T", [
      { brokerName: "broker-a", readQueueNums: 2 },
      { brokerName: "broker-b", readQueueNums: 3, perm: Perm.WRITE },
      { brokerName: "broker-c", readQueueNums: 1, perm: Perm.READ },
    ]);
    expect(readQueuesOf("T", config)).toEqual([q("T", "broker-a", 0), q("T", "broker-a", 1), q("T", "broker-c", 0)]);
  });

  it("allocates each topic among its subscribers, topic by topic, and names every allocated queue's owner", () => {
    const routes = new Map<string, TopicConfig | null>([
      ["T", route("T", [{ brokerName: "broker-a", readQueueNums: 4 }])],
      ["U", route("U", [{ brokerName: "broker-a", readQueueNums: 2 }])],
      ["V", null],
    ]);
    const { assignment, owners } = allocateTopics("AVERAGELY", [member("cid-2", ["T", "U", "V"]), member("cid-1", ["T"])], ["T", "U", "V"], routes);
    expect([...assignment]).toEqual([
      ["cid-1", [q("T", "broker-a", 0), q("T", "broker-a", 1)]],
      ["cid-2", [q("T", "broker-a", 2), q("T", "broker-a", 3), q("U", "broker-a", 0), q("U", "broker-a", 1)]],
    ]);
    expect([...owners]).toEqual([
      ["broker-a/T/0", "cid-1"],
      ["broker-a/T/1", "cid-1"],
      ["broker-a/T/2", "cid-2"],
      ["broker-a/T/3", "cid-2"],
      ["broker-a/U/0", "cid-2"],
      ["broker-a/U/1", "cid-2"],
    ]);
  });

  it("gives CONFIG members only the configured queues the route has", () => {
    const routes = new Map([["T", route("T", [{ brokerName: "broker-a", readQueueNums: 2 }])]]);
    const members = [
      member("cid-1", ["T"], { allocateStrategy: "CONFIG", configuredQueues: [q("T", "broker-a", 1), q("T", "broker-z", 0), q("U", "broker-a", 0)] }),
      member("cid-2", ["T"], { allocateStrategy: "CONFIG", configuredQueues: [q("T", "broker-a", 1), q("T", "broker-a", 0)] }),
    ];
    const { assignment, owners } = allocateTopics("CONFIG", members, ["T"], routes);
    expect(assignment.get("cid-1")).toEqual([q("T", "broker-a", 1)]);
    expect(assignment.get("cid-2")).toEqual([q("T", "broker-a", 0)]);
    expect([...owners].sort()).toEqual([
      ["broker-a/T/0", "cid-2"],
      ["broker-a/T/1", "cid-1"],
    ]);
  });

  it("restores the clustering members' queues from the stored owners, sorted", () => {
    const members = new Map<string, Pick<HeartbeatRequest, "messageModel">>([
      ["cid-1", { messageModel: "CLUSTERING" }],
      ["cid-b", { messageModel: "BROADCASTING" }],
    ]);
    // A broadcasting member's and a departed member's stored owners give nobody queues.
    const owners = new Map([
      ["broker-b/T/0", "cid-1"],
      ["broker-a/T/1", "cid-1"],
      ["broker-a/T/0", "cid-b"],
      ["broker-a/T/2", "gone"],
    ]);
    expect([...restoredAssignment(owners, members)]).toEqual([["cid-1", [q("T", "broker-a", 1), q("T", "broker-b", 0)]]]);
  });

  it("compares assignments by each member's queues, an empty share the same as none", () => {
    const a = new Map([
      ["cid-1", [q("T", "broker-a", 0), q("T", "broker-a", 1)]],
      ["cid-2", []],
    ]);
    expect(sameAssignment(a, new Map([["cid-1", [q("T", "broker-a", 1), q("T", "broker-a", 0)]]]))).toBe(true);
    expect(sameAssignment(a, new Map([["cid-2", [q("T", "broker-a", 0), q("T", "broker-a", 1)]]]))).toBe(false);
    expect(sameAssignment(a, new Map([["cid-1", [q("T", "broker-a", 0)]]]))).toBe(false);
    expect(sameAssignment(new Map(), new Map([["cid-1", []]]))).toBe(true);
  });

  it("a member's shape is what allocation depends on, not its timers or what it holds", () => {
    const base = member("cid-1", ["T"]);
    expect(memberShape({ ...base, heartbeatIntervalMs: 2000, sessionTimeoutMs: 30_000, heldQueues: [q("T", "broker-a", 0)], generation: 4 })).toBe(
      memberShape(base),
    );
    expect(memberShape(member("cid-1", ["T", "U"]))).not.toBe(memberShape(base));
    expect(memberShape({ ...base, zone: "z1" })).not.toBe(memberShape(base));
    expect(memberShape({ ...base, allocateStrategy: "AVERAGELY_BY_CIRCLE" })).not.toBe(memberShape(base));
    expect(memberShape({ ...base, messageModel: "BROADCASTING" })).not.toBe(memberShape(base));
    expect(memberShape({ ...base, configuredQueues: [] })).not.toBe(memberShape(base));
  });

  it("a member expires once silent for longer than its session timeout", () => {
    const m = { lastHeartbeatAt: 1000, sessionTimeoutMs: 3000 };
    expect(isExpired(m, 4000)).toBe(false);
    expect(isExpired(m, 4001)).toBe(true);
  });
});
