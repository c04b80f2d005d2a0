import { describe, expect, it } from "vitest";
import type { HeartbeatRequest } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import { heldShape, holdBackReleasing, holds, RELEASE_TIMEOUT_MS, type Releasing } from "./hand-over.js";

const q = (queueId: number): MessageQueue => ({ topic: "T", brokerName: "broker-a", queueId });
const key = (queueId: number) => `broker-a/T/${queueId}`;

function member(clientId: string, held: number[] | undefined, generation?: number): HeartbeatRequest {
  return {
    clientId,
    messageModel: "CLUSTERING",
    subscriptions: [{ topic: "T", expressionType: "TAG", expression: "*" }],
    heartbeatIntervalMs: 1000,
    sessionTimeoutMs: 10_000,
    ...(held === undefined ? {} : { heldQueues: held.map(q) }),
    ...(generation === undefined ? {} : { generation }),
  };
}

describe("hand-over of queues that move", () => {
  it("a member holds a queue it lists, or any queue while its report predates the generation; one that reports nothing holds none", () => {
    expect(holds(member("A", undefined, 5), key(0), 5)).toBe(false);
    expect(holds(member("A", [0], 5), key(0), 5)).toBe(true);
    expect(holds(member("A", [1], 5), key(0), 5)).toBe(false);
    expect(holds(member("A", [], 4), key(0), 5)).toBe(true);
    expect(holds(member("A", []), key(0), 0)).toBe(true);
  });

  it("what a member holds is compared by generation and queues, in any order", () => {
    expect(heldShape(member("A", [1, 0], 3))).toBe(heldShape(member("A", [0, 1], 3)));
    expect(heldShape(member("A", [0, 1], 4))).not.toBe(heldShape(member("A", [0, 1], 3)));
    expect(heldShape(member("A", [0], 3))).not.toBe(heldShape(member("A", [0, 1], 3)));
    expect(heldShape(member("A", undefined))).toBe(heldShape(member("A", [])));
  });

  it("a queue moving away from a live member that holds it stays that member's and leaves the new owner's share", () => {
    const owners = new Map<string, string | null>([
      [key(0), "B"],
      [key(1), "B"],
      [key(2), null],
    ]);
    const next = new Map([["B", [q(0), q(1)]]]);
    const told = new Map<string, string | null>([
      [key(0), "A"],
      [key(1), "B"],
      [key(2), "A"],
    ]);
    const members = new Map([
      ["A", member("A", [0, 2], 7)],
      ["B", member("B", [1], 7)],
    ]);
    const still = holdBackReleasing(owners, next, told, members, new Map(), 7, 1000);
    expect([...still]).toEqual([
      [key(0), { from: "A", since: 1000 }],
      [key(2), { from: "A", since: 1000 }],
    ]);
    expect([...owners]).toEqual([
      [key(0), "A"],
      [key(1), "B"],
      [key(2), "A"],
    ]);
    expect(next.get("B")).toEqual([q(1)]);
  });

  it("a hand-over keeps its start, and ends when the member lets go, leaves, or RELEASE_TIMEOUT_MS passes", () => {
    const told = new Map<string, string | null>([[key(0), "A"]]);
    const releasing = new Map<string, Releasing>([[key(0), { from: "A", since: 1000 }]]);
    const proposal = () => ({ owners: new Map<string, string | null>([[key(0), "B"]]), next: new Map([["B", [q(0)]]]) });

    let p = proposal();
    const holding = new Map([["A", member("A", [0], 7)]]);
    expect([...holdBackReleasing(p.owners, p.next, told, holding, releasing, 7, 1000 + RELEASE_TIMEOUT_MS - 1)]).toEqual([
      [key(0), { from: "A", since: 1000 }],
    ]);
    expect(p.owners.get(key(0))).toBe("A");
    expect(p.next.get("B")).toEqual([]);

    for (const [members, now] of [
      [new Map([["A", member("A", [], 7)]]), 2000],
      [new Map<string, HeartbeatRequest>(), 2000],
      [holding, 1000 + RELEASE_TIMEOUT_MS],
    ] as const) {
      p = proposal();
      expect(holdBackReleasing(p.owners, p.next, told, members, releasing, 7, now).size).toBe(0);
      expect(p.owners.get(key(0))).toBe("B");
      expect(p.next.get("B")).toEqual([q(0)]);
    }
  });

  it("a queue that was told nobody, or stays with its owner, is no hand-over", () => {
    const owners = new Map<string, string | null>([
      [key(0), "B"],
      [key(1), "A"],
      [key(2), "B"],
    ]);
    const told = new Map<string, string | null>([
      [key(1), "A"],
      [key(2), null],
    ]);
    const members = new Map([["A", member("A", [0, 1, 2], 7)]]);
    expect(holdBackReleasing(owners, new Map(), told, members, new Map(), 7, 1000).size).toBe(0);
    expect([...owners.values()]).toEqual(["B", "A", "B"]);
  });
});
