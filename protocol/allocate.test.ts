import { describe, expect, it } from "vitest";
import { allocate, allocateAll, compareMessageQueues, type AllocateOptions, type AllocateStrategyName } from "./allocate.js";
import type { MessageQueue } from "./message.js";

const TOPIC = "TopicTest";

function mq(brokerName: string, queueId: number, topic = TOPIC): MessageQueue {
  return { topic, brokerName, queueId };
}

function queues(count: number, brokerName = "broker-a", topic = TOPIC): MessageQueue[] {
  return Array.from({ length: count }, (_, i) => mq(brokerName, i, topic));
}

function key(q: MessageQueue): string {
  return `${q.topic}/${q.brokerName}/${q.queueId}`;
}

function queueIds(list: readonly MessageQueue[]): number[] {
  return list.map((q) => q.queueId);
}

/** Shares as plain "topic/broker/id" lists, for readable comparisons. */
function keyed(shares: Map<string, MessageQueue[]>): Record<string, string[]> {
  return Object.fromEntries([...shares].map(([cid, share]) => [cid, share.map(key)]));
}

/** mulberry32: a small seeded PRNG so the property tests are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(list: readonly T[], random: () => number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = a;
  }
  return copy;
}

const ALL_STRATEGIES: readonly AllocateStrategyName[] = [
  "AVERAGELY",
  "AVERAGELY_BY_CIRCLE",
  "CONSISTENT_HASH",
  "MACHINE_ROOM",
  "MACHINE_ROOM_NEARBY",
  "CONFIG",
];

describe("compareMessageQueues", () => {
  it("orders by topic, then brokerName, then numeric queueId (MessageQueue.compareTo)", () => {
    const list = [mq("broker-b", 0), mq("broker-a", 10), mq("broker-a", 2, "A"), mq("broker-a", 2), mq("Broker-z", 5)];
    expect(list.sort(compareMessageQueues).map(key)).toEqual([
      "A/broker-a/2",
      "TopicTest/Broker-z/5",
      "TopicTest/broker-a/2",
      "TopicTest/broker-a/10",
      "TopicTest/broker-b/0",
    ]);
    expect(compareMessageQueues(mq("broker-a", 3), mq("broker-a", 3))).toBe(0);
  });
});

describe("AVERAGELY (AllocateMessageQueueAveragely)", () => {
  it("gives contiguous blocks: 8 queues / 3 consumers → {0,1,2},{3,4,5},{6,7}", () => {
    const shares = allocateAll("AVERAGELY", queues(8), ["c0", "c1", "c2"]);
    expect([...shares.values()].map(queueIds)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
  });

  it("matches RocketMQ's test: 10 queues / 4 consumers → sizes 3,3,2,2", () => {
    const cids = ["CID_PREFIX0", "CID_PREFIX1", "CID_PREFIX2", "CID_PREFIX3"];
    const mqs = queues(10, "brokerName", "topic");
    expect(cids.map((cid) => allocate("AVERAGELY", cid, mqs, cids).length)).toEqual([3, 3, 2, 2]);
    expect(cids.map((cid) => queueIds(allocate("AVERAGELY", cid, mqs, cids)))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
      [8, 9],
    ]);
  });

  it("gives consumers beyond the number of queues nothing", () => {
    const shares = allocateAll("AVERAGELY", queues(2), ["c0", "c1", "c2", "c3"]);
    expect([...shares.values()].map(queueIds)).toEqual([[0], [1], [], []]);
  });

  it("sorts queues and consumer ids first, as RebalanceImpl does", () => {
    const mqs = [mq("broker-b", 1), mq("broker-a", 10), mq("broker-b", 0), mq("broker-a", 2), mq("broker-a", 0)];
    const cids = ["c-2", "c-10", "c-1"];
    // Sorted ids: c-1 < c-10 < c-2 (string order); sorted queues: a/0, a/2, a/10, b/0, b/1.
    expect(keyed(allocateAll("AVERAGELY", mqs, cids))).toEqual({
      "c-1": ["TopicTest/broker-a/0", "TopicTest/broker-a/2"],
      "c-10": ["TopicTest/broker-a/10", "TopicTest/broker-b/0"],
      "c-2": ["TopicTest/broker-b/1"],
    });
    expect(queueIds(allocate("AVERAGELY", "c-10", mqs, cids))).toEqual([10, 0]);
  });
});

describe("AVERAGELY_BY_CIRCLE (AllocateMessageQueueAveragelyByCircle)", () => {
  it("deals queue j to consumer j % n: 8 queues / 3 consumers → {0,3,6},{1,4,7},{2,5}", () => {
    const shares = allocateAll("AVERAGELY_BY_CIRCLE", queues(8), ["c0", "c1", "c2"]);
    expect([...shares.values()].map(queueIds)).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5],
    ]);
  });

  it("matches RocketMQ's test: 10 queues / 4 consumers, and an unknown consumer gets nothing", () => {
    const cids = ["CID_PREFIX0", "CID_PREFIX1", "CID_PREFIX2", "CID_PREFIX3"];
    const mqs = queues(10, "brokerName", "topic");
    expect(allocate("AVERAGELY_BY_CIRCLE", "CID_PREFIX", mqs, cids)).toEqual([]);
    expect(cids.map((cid) => queueIds(allocate("AVERAGELY_BY_CIRCLE", cid, mqs, cids)))).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6],
      [3, 7],
    ]);
  });
});

describe("CONSISTENT_HASH (AllocateMessageQueueConsistentHash)", () => {
  // Expected values were produced by RocketMQ's algorithm (ConsistentHashRouter with MD5Hash,
  // TreeMap ring, MessageQueue.toString keys) running on a JVM.
  it("assigns as RocketMQ does with 10 virtual nodes", () => {
    const shares = allocateAll("CONSISTENT_HASH", queues(8), ["consumer-1", "consumer-2", "consumer-3"]);
    expect(Object.fromEntries([...shares].map(([cid, share]) => [cid, queueIds(share)]))).toEqual({
      "consumer-1": [0, 2, 3, 5],
      "consumer-2": [4, 6, 7],
      "consumer-3": [1],
    });
  });

  it("assigns as RocketMQ does across two brokers", () => {
    const mqs = [...queues(4, "broker-a"), ...queues(4, "broker-b")];
    const cids = ["192.168.0.2@5678", "192.168.0.1@1234"];
    expect(keyed(allocateAll("CONSISTENT_HASH", mqs, cids))).toEqual({
      "192.168.0.1@1234": ["TopicTest/broker-a/1", "TopicTest/broker-a/3", "TopicTest/broker-b/2", "TopicTest/broker-b/3"],
      "192.168.0.2@5678": ["TopicTest/broker-a/0", "TopicTest/broker-a/2", "TopicTest/broker-b/0", "TopicTest/broker-b/1"],
    });
  });

  it("honours virtualNodeCount", () => {
    const shares = allocateAll("CONSISTENT_HASH", queues(8), ["consumer-1", "consumer-2", "consumer-3"], {
      virtualNodeCount: 1,
    });
    expect(Object.fromEntries([...shares].map(([cid, share]) => [cid, queueIds(share)]))).toEqual({
      "consumer-1": [0, 2],
      "consumer-2": [3, 5, 6],
      "consumer-3": [1, 4, 7],
    });
  });

  it("is deterministic: the same inputs give the same outputs, call after call", () => {
    const mqs = [...queues(16, "broker-a"), ...queues(16, "broker-b")];
    const cids = ["10.0.0.1@100", "10.0.0.2@200", "10.0.0.3@300", "10.0.0.4@400", "10.0.0.5@500"];
    const first = allocateAll("CONSISTENT_HASH", mqs, cids);
    for (let i = 0; i < 3; i++) {
      expect(allocateAll("CONSISTENT_HASH", mqs, cids)).toEqual(first);
      for (const cid of cids) expect(allocate("CONSISTENT_HASH", cid, mqs, cids)).toEqual(first.get(cid));
    }
  });

  it("with no virtual nodes assigns nothing; a negative count is rejected", () => {
    expect(allocate("CONSISTENT_HASH", "c0", queues(4), ["c0"], { virtualNodeCount: 0 })).toEqual([]);
    expect(() => allocate("CONSISTENT_HASH", "c0", queues(4), ["c0"], { virtualNodeCount: -1 })).toThrow(RangeError);
    expect(() => allocateAll("CONSISTENT_HASH", queues(4), ["c0"], { virtualNodeCount: 1.5 })).toThrow(RangeError);
  });
});

describe("MACHINE_ROOM (AllocateMessageQueueByMachineRoom)", () => {
  it("matches RocketMQ's test: room1 queues 0..4 over two consumers → {0,1,4},{2,3}", () => {
    const mqs = [...Array.from({ length: 5 }, (_, i) => mq("room1@broker-a", i, "topic"))];
    for (let i = 5; i < 10; i++) mqs.push(mq("room2@broker-b", i, "topic"));
    const cids = ["CID_PREFIX0", "CID_PREFIX1"];
    const options = { consumeRooms: ["room1"] };
    expect(queueIds(allocate("MACHINE_ROOM", "CID_PREFIX0", mqs, cids, options))).toEqual([0, 1, 4]);
    expect(queueIds(allocate("MACHINE_ROOM", "CID_PREFIX1", mqs, cids, options))).toEqual([2, 3]);
  });

  it("only considers brokers named exactly room@name (Java split semantics)", () => {
    const mqs = [
      mq("room1@broker-a", 0),
      mq("room1", 0), // no room
      mq("room1@x@y", 0), // three parts
      mq("room1@", 0), // Java drops the trailing empty part: one part
      mq("room1@broker-b@", 0), // two parts after dropping the trailing empty one
    ];
    const shares = allocateAll("MACHINE_ROOM", mqs, ["c0"], { consumeRooms: ["room1"] });
    expect(shares.get("c0")?.map((q) => q.brokerName)).toEqual(["room1@broker-a", "room1@broker-b@"]);
  });

  it("hands out nothing without consumeRooms", () => {
    expect(allocate("MACHINE_ROOM", "c0", [mq("room1@broker-a", 0)], ["c0"])).toEqual([]);
  });
});

describe("MACHINE_ROOM_NEARBY (AllocateMachineRoomNearby over AVERAGELY)", () => {
  const mqs = ["A@broker-a", "B@broker-b", "C@broker-c"].flatMap((broker) => queues(3, broker, "T"));
  const clientRooms = { "A-c0": "A", "A-c1": "A", "B-c0": "B" };

  it("keeps a room's queues in the room and shares queues of rooms without consumers (as RocketMQ)", () => {
    // Expected values produced by RocketMQ's AllocateMachineRoomNearby on a JVM.
    expect(keyed(allocateAll("MACHINE_ROOM_NEARBY", mqs, ["B-c0", "A-c1", "A-c0"], { clientRooms }))).toEqual({
      "A-c0": ["T/A@broker-a/0", "T/A@broker-a/1", "T/C@broker-c/0"],
      "A-c1": ["T/A@broker-a/2", "T/C@broker-c/1"],
      "B-c0": ["T/B@broker-b/0", "T/B@broker-b/1", "T/B@broker-b/2", "T/C@broker-c/2"],
    });
  });

  it("shares queues without a room, and serves consumers without a room only from shared queues", () => {
    const list = [mq("A@broker-a", 0), mq("A@broker-a", 1), mq("plain-broker", 0), mq("plain-broker", 1)];
    expect(keyed(allocateAll("MACHINE_ROOM_NEARBY", list, ["a", "x"], { clientRooms: { a: "A" } }))).toEqual({
      a: ["TopicTest/A@broker-a/0", "TopicTest/A@broker-a/1", "TopicTest/plain-broker/0"],
      x: ["TopicTest/plain-broker/1"],
    });
  });

  it("without clientRooms behaves as AVERAGELY per room", () => {
    expect(keyed(allocateAll("MACHINE_ROOM_NEARBY", mqs, ["c0", "c1"]))).toEqual({
      c0: ["T/A@broker-a/0", "T/A@broker-a/1", "T/B@broker-b/0", "T/B@broker-b/1", "T/C@broker-c/0", "T/C@broker-c/1"],
      c1: ["T/A@broker-a/2", "T/B@broker-b/2", "T/C@broker-c/2"],
    });
  });
});

describe("CONFIG (AllocateMessageQueueByConfig)", () => {
  it("returns the configured queues of the consumer, as given", () => {
    const configured = { c0: [mq("broker-b", 3), mq("broker-a", 1)], c1: [] };
    expect(allocate("CONFIG", "c0", queues(4), ["c0", "c1", "c2"], { configured })).toEqual([mq("broker-b", 3), mq("broker-a", 1)]);
    expect(allocate("CONFIG", "c1", queues(4), ["c0", "c1", "c2"], { configured })).toEqual([]);
    expect(allocate("CONFIG", "c2", queues(4), ["c0", "c1", "c2"], { configured })).toEqual([]);
    expect(allocate("CONFIG", "constructor", queues(4), ["constructor"], { configured })).toEqual([]);
    const result = allocate("CONFIG", "c0", queues(4), ["c0"], { configured });
    result.pop();
    expect(configured.c0).toHaveLength(2);
  });
});

describe("common checks", () => {
  it.each(ALL_STRATEGIES)("%s: a consumer not in cidAll gets nothing", (strategy) => {
    const options: AllocateOptions = { consumeRooms: ["A"], clientRooms: { c0: "A" }, configured: { zz: queues(2) } };
    expect(allocate(strategy, "zz", queues(6, "A@broker-a"), ["c0", "c1"], options)).toEqual([]);
    expect(allocate(strategy, "c0", queues(6, "A@broker-a"), [], options)).toEqual([]);
  });

  it.each(ALL_STRATEGIES)("%s: no queues → nothing for anyone", (strategy) => {
    const options: AllocateOptions = { configured: { c0: queues(2) } };
    expect(allocate(strategy, "c0", [], ["c0", "c1"], options)).toEqual([]);
    expect(allocateAll(strategy, [], ["c1", "c0"], options)).toEqual(
      new Map([
        ["c0", []],
        ["c1", []],
      ]),
    );
  });

  it("allocateAll lists every consumer once, in sorted order", () => {
    const shares = allocateAll("AVERAGELY", queues(3), ["b", "a", "c", "a"]);
    expect([...shares.keys()]).toEqual(["a", "b", "c"]);
  });

  it("does not modify its inputs", () => {
    const mqs = [mq("broker-b", 0), mq("broker-a", 0)];
    const cids = ["c1", "c0"];
    allocateAll("CONSISTENT_HASH", mqs, cids);
    allocate("AVERAGELY", "c0", mqs, cids);
    expect(mqs.map(key)).toEqual(["TopicTest/broker-b/0", "TopicTest/broker-a/0"]);
    expect(cids).toEqual(["c1", "c0"]);
  });
});

describe("properties over random cases", () => {
  const ROOMS = ["r1", "r2", "r3"];

  interface Case {
    mqs: MessageQueue[];
    cids: string[];
    clientRooms: Record<string, string>;
  }

  /** 0..40 queues over 1..3 brokers (some in rooms "rX@broker-k"), 1..12 consumers. */
  function randomCase(random: () => number): Case {
    const brokerCount = 1 + Math.floor(random() * 3);
    const brokers = Array.from({ length: brokerCount }, (_, i) => {
      const room = ROOMS[Math.floor(random() * ROOMS.length)];
      return random() < 0.85 && room !== undefined ? `${room}@broker-${i}` : `broker-${i}`;
    });
    const total = Math.floor(random() * 41);
    const nextId = new Map<string, number>();
    const mqs: MessageQueue[] = [];
    for (let i = 0; i < total; i++) {
      const broker = brokers[Math.floor(random() * brokers.length)] ?? "broker-0";
      const id = nextId.get(broker) ?? 0;
      nextId.set(broker, id + 1);
      mqs.push(mq(broker, id));
    }
    const consumerCount = 1 + Math.floor(random() * 12);
    const cids = new Set<string>();
    while (cids.size < consumerCount) {
      cids.add(`10.0.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}@${Math.floor(random() * 100000)}`);
    }
    const clientRooms: Record<string, string> = {};
    for (const cid of cids) {
      // r4 has no broker; some consumers have no room at all.
      if (random() < 0.9) clientRooms[cid] = ["r1", "r2", "r3", "r4"][Math.floor(random() * 4)] ?? "r1";
    }
    return { mqs, cids: [...cids], clientRooms };
  }

  const CASES = 400;
  const random = prng(20240601);
  const cases = Array.from({ length: CASES }, () => randomCase(random));
  const PARTITIONING: readonly AllocateStrategyName[] = ["AVERAGELY", "AVERAGELY_BY_CIRCLE", "CONSISTENT_HASH", "MACHINE_ROOM_NEARBY"];

  function expectPartition(shares: Map<string, MessageQueue[]>, mqs: readonly MessageQueue[]): void {
    const assigned = [...shares.values()].flat().map(key);
    expect(new Set(assigned).size).toBe(assigned.length);
    expect([...assigned].sort()).toEqual(mqs.map(key).sort());
  }

  it.each(PARTITIONING)("%s: every queue goes to exactly one consumer; allocate agrees with allocateAll", (strategy) => {
    for (const { mqs, cids, clientRooms } of cases) {
      const options = { clientRooms };
      const shares = allocateAll(strategy, mqs, cids, options);
      expect([...shares.keys()]).toEqual([...cids].sort());
      expectPartition(shares, mqs);
      for (const cid of cids) expect(allocate(strategy, cid, mqs, cids, options)).toEqual(shares.get(cid));
    }
  });

  it.each(PARTITIONING)("%s: the result does not depend on input order", (strategy) => {
    const shuffle = prng(7);
    for (const { mqs, cids, clientRooms } of cases) {
      const options = { clientRooms };
      const expected = allocateAll(strategy, mqs, cids, options);
      expect(allocateAll(strategy, shuffled(mqs, shuffle), shuffled(cids, shuffle), options)).toEqual(expected);
      const cid = cids[Math.floor(shuffle() * cids.length)] ?? "";
      expect(allocate(strategy, cid, shuffled(mqs, shuffle), shuffled(cids, shuffle), options)).toEqual(expected.get(cid));
    }
  });

  it.each(["AVERAGELY", "AVERAGELY_BY_CIRCLE"] as const)("%s: shares differ by at most one queue", (strategy) => {
    for (const { mqs, cids } of cases) {
      const sizes = [...allocateAll(strategy, mqs, cids).values()].map((share) => share.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it("AVERAGELY: shares are contiguous runs of the sorted queues, in consumer order", () => {
    for (const { mqs, cids } of cases) {
      const sorted = [...mqs].sort(compareMessageQueues);
      const shares = allocateAll("AVERAGELY", mqs, cids);
      expect([...shares.values()].flat().map(key)).toEqual(sorted.map(key));
      for (const share of shares.values()) {
        const positions = share.map((q) => sorted.findIndex((s) => key(s) === key(q)));
        positions.forEach((p, i) => expect(p).toBe((positions[0] ?? 0) + i));
      }
    }
  });

  it("AVERAGELY_BY_CIRCLE: sorted queue j belongs to sorted consumer j % n", () => {
    for (const { mqs, cids } of cases) {
      const sorted = [...mqs].sort(compareMessageQueues);
      const sortedCids = [...cids].sort();
      const shares = allocateAll("AVERAGELY_BY_CIRCLE", mqs, cids);
      sorted.forEach((q, j) => {
        expect(shares.get(sortedCids[j % sortedCids.length] ?? "")?.map(key)).toContain(key(q));
      });
    }
  });

  it("CONSISTENT_HASH: adding a consumer only moves queues to the new consumer", () => {
    const extra = prng(99);
    for (const { mqs, cids } of cases) {
      const before = allocateAll("CONSISTENT_HASH", mqs, cids);
      const owner = new Map<string, string>();
      for (const [cid, share] of before) for (const q of share) owner.set(key(q), cid);
      const newcomer = `10.1.${Math.floor(extra() * 256)}.1@${Math.floor(extra() * 100000)}`;
      const after = allocateAll("CONSISTENT_HASH", mqs, [...cids, newcomer]);
      expectPartition(after, mqs);
      for (const [cid, share] of after) {
        for (const q of share) if (cid !== newcomer) expect(owner.get(key(q))).toBe(cid);
      }
    }
  });

  it("MACHINE_ROOM_NEARBY: a queue in a room with consumers goes to a consumer of that room", () => {
    for (const { mqs, cids, clientRooms } of cases) {
      const roomsWithConsumers = new Set(cids.map((cid) => clientRooms[cid]).filter((r) => r !== undefined));
      for (const [cid, share] of allocateAll("MACHINE_ROOM_NEARBY", mqs, cids, { clientRooms })) {
        for (const q of share) {
          const room = q.brokerName.includes("@") ? q.brokerName.split("@")[0] : undefined;
          if (room !== undefined && roomsWithConsumers.has(room)) expect(clientRooms[cid]).toBe(room);
        }
      }
    }
  });

  it("MACHINE_ROOM: hands out exactly the queues of consumeRooms, each once, evenly", () => {
    const pick = prng(3);
    for (const { mqs, cids } of cases) {
      const consumeRooms = ROOMS.filter(() => pick() < 0.5);
      const shares = allocateAll("MACHINE_ROOM", mqs, cids, { consumeRooms });
      const wanted = mqs.filter((q) => {
        const parts = q.brokerName.split("@");
        return parts.length === 2 && consumeRooms.includes(parts[0] ?? "");
      });
      expectPartition(shares, wanted);
      const sizes = [...shares.values()].map((share) => share.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(allocateAll("MACHINE_ROOM", shuffled(mqs, pick), shuffled(cids, pick), { consumeRooms })).toEqual(shares);
    }
  });

  it("a consumer outside cidAll gets nothing, whatever the case", () => {
    for (const { mqs, cids, clientRooms } of cases) {
      for (const strategy of ALL_STRATEGIES) {
        expect(allocate(strategy, "outsider", mqs, cids, { clientRooms, consumeRooms: ROOMS })).toEqual([]);
      }
    }
  });
});
