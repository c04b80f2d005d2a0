import { afterEach, describe, expect, it, vi } from "vitest";
import type { HeartbeatResponse, MessageModel, Subscription } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { TopicRouteData } from "../../protocol/route.js";
import type { RouteCache } from "../routes.js";
import type { QueueTask } from "./queue-task.js";
import { PushRebalance } from "./rebalance.js";

const q = (queueId: number, topic = "T"): MessageQueue => ({ topic, brokerName: "broker-a", queueId });

function answer(generation: number, assignment: MessageQueue[], offsetResetSeq = 0): HeartbeatResponse {
  return { generation, assignment, offsetResetSeq, members: 1, sessionTimeoutMs: 30_000 };
}

/**
 * A rebalance whose pull loops run until their queue is aborted, with a fake member and
 * recorded commits; `commitGate` holds commits while a test looks at the hand-over.
 */
function setUp(model: MessageModel = "CLUSTERING", routes: Record<string, TopicRouteData> = {}) {
  const subscriptions = new Map<string, Subscription>([["T", { topic: "T", expressionType: "TAG", expression: "*" }]]);
  const member = { current: undefined as HeartbeatResponse | undefined, beats: 0, beatSoon: async () => void member.beats++ };
  const started: QueueTask[] = [];
  const commits: string[] = [];
  let running = true;
  let commitGate: Promise<void> = Promise.resolve();
  const routeCache = {
    get: async (topic: string) => {
      const route = routes[topic];
      if (!route) throw new Error(`no route for ${topic}`);
      return route;
    },
  } as unknown as RouteCache;
  const rebalance = new PushRebalance({
    clientId: "c1",
    model,
    subscriptions,
    routes: routeCache,
    member,
    isRunning: () => running,
    pull: (task) => {
      started.push(task);
      return new Promise<void>((resolve) => task.abort.signal.addEventListener("abort", () => resolve(), { once: true }));
    },
    commit: async (task) => {
      await commitGate;
      commits.push(`${task.mq.queueId}@${task.pq.dropped ? "dropped" : "live"}`);
    },
  });
  return {
    rebalance,
    member,
    started,
    commits,
    subscriptions,
    stop: () => (running = false),
    holdCommits: (gate: Promise<void>) => {
      commitGate = gate;
    },
  };
}

const ids = (queues: MessageQueue[]) => queues.map((m) => m.queueId).sort();

afterEach(() => {
  vi.useRealTimers();
});

describe("PushRebalance", () => {
  it("starts a pull loop for each assigned queue of a subscribed topic", async () => {
    const { rebalance, started } = setUp();
    await rebalance.onAssignment(answer(1, [q(0), q(1), q(0, "Unsubscribed")]));
    expect(ids(rebalance.assignedQueues)).toEqual([0, 1]);
    expect(started.map((t) => t.mq)).toEqual([q(0), q(1)]);
    expect(rebalance.heldQueues()).toEqual([q(0), q(1)]);
  });

  it("lets a queue go: stops its loop, waits for its listener calls, commits, and reports it held until then", async () => {
    vi.useFakeTimers();
    const { rebalance, started, commits, member } = setUp();
    await rebalance.onAssignment(answer(1, [q(0), q(1)]));
    const leaving = started[1]!;
    let finishCall!: () => void;
    void leaving.trackListenerCall(() => new Promise<void>((r) => (finishCall = r)));
    const applied = rebalance.onAssignment(answer(2, [q(0)]));
    await vi.advanceTimersByTimeAsync(0);
    expect(leaving.abort.signal.aborted).toBe(true);
    expect(ids(rebalance.assignedQueues)).toEqual([0]);
    // Still held: its listener call runs and its offset is not committed yet.
    expect(ids(rebalance.heldQueues())).toEqual([0, 1]);
    expect(commits).toEqual([]);
    finishCall();
    await applied;
    expect(commits).toEqual(["1@dropped"]);
    expect(ids(rebalance.heldQueues())).toEqual([0]);
    // The group hears at once that the queue was let go.
    const beats = member.beats;
    await vi.advanceTimersByTimeAsync(0);
    expect(member.beats).toBe(beats + 1);
  });

  it("lets go after 5 s even if a listener call hangs, committing what finished", async () => {
    vi.useFakeTimers();
    const { rebalance, started, commits } = setUp();
    await rebalance.onAssignment(answer(1, [q(0)]));
    void started[0]!.trackListenerCall(() => new Promise<void>(() => undefined));
    let applied = false;
    void rebalance.onAssignment(answer(2, [])).then(() => (applied = true));
    await vi.advanceTimersByTimeAsync(4999);
    expect(applied).toBe(false);
    expect(ids(rebalance.heldQueues())).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(applied).toBe(true);
    expect(commits).toEqual(["0@dropped"]);
    expect(rebalance.heldQueues()).toEqual([]);
  });

  it("fences pulls and commits with the member's generation and offset-reset sequence (CLUSTERING only)", () => {
    const clustering = setUp("CLUSTERING");
    expect(clustering.rebalance.fence()).toBeUndefined();
    clustering.member.current = answer(7, [], 3);
    expect(clustering.rebalance.fence()).toEqual({ clientId: "c1", generation: 7, offsetResetSeq: 3 });
    const broadcasting = setUp("BROADCASTING");
    broadcasting.member.current = answer(7, [], 3);
    expect(broadcasting.rebalance.fence()).toBeUndefined();
  });

  it("a refused pull drops the queue and heartbeats at once", async () => {
    const { rebalance, started, member } = setUp();
    await rebalance.onAssignment(answer(1, [q(0), q(1)]));
    rebalance.onNotOwner(started[0]!);
    expect(started[0]!.pq.dropped).toBe(true);
    expect(ids(rebalance.assignedQueues)).toEqual([1]);
    expect(member.beats).toBe(1);
  });

  it("an admin offset reset restarts every queue from the broker's offsets, without committing the old position", async () => {
    const { rebalance, started, commits } = setUp();
    await rebalance.onAssignment(answer(1, [q(0)], 0));
    await rebalance.onAssignment(answer(1, [q(0)], 0));
    expect(started).toHaveLength(1);
    await rebalance.onAssignment(answer(2, [q(0)], 1));
    expect(started).toHaveLength(2);
    expect(started[0]!.abort.signal.aborted).toBe(true);
    expect(started[0]!.pq.dropped).toBe(true);
    expect(started[1]!.nextOffset).toBe(-1);
    expect(commits).toEqual([]);
  });

  it("applies assignments one at a time, in the order they came", async () => {
    const { rebalance, started, holdCommits } = setUp();
    await rebalance.onAssignment(answer(1, [q(0)]));
    let release!: () => void;
    holdCommits(new Promise<void>((r) => (release = r)));
    const first = rebalance.onAssignment(answer(2, [q(1)])); // lets q0 go: waits on its commit
    const second = rebalance.onAssignment(answer(3, [q(1), q(2)]));
    await new Promise((r) => setImmediate(r));
    expect(started.map((t) => t.mq.queueId)).toEqual([0]);
    release();
    await first;
    await second;
    expect(started.map((t) => t.mq.queueId)).toEqual([0, 1, 2]);
  });

  it("reports the queues of an assignment not applied yet as held, so the group never moves them on without a hand-over", async () => {
    const { rebalance, started, holdCommits } = setUp();
    await rebalance.onAssignment(answer(1, [q(0)]));
    let release!: () => void;
    holdCommits(new Promise<void>((r) => (release = r)));
    const applied = rebalance.onAssignment(answer(2, [q(1)])); // lets q0 go first: waits on its commit
    await new Promise((r) => setImmediate(r));
    // q1 is not read yet, but a heartbeat now carries generation 2: it must list q1.
    expect(started.map((t) => t.mq.queueId)).toEqual([0]);
    expect(ids(rebalance.heldQueues())).toEqual([0, 1]);
    release();
    await applied;
    expect(ids(rebalance.heldQueues())).toEqual([1]);
    // Once applied, nothing of it is reported twice or kept.
    await rebalance.onAssignment(answer(3, []));
    expect(rebalance.heldQueues()).toEqual([]);
  });

  it("ignores assignments once the consumer stopped", async () => {
    const { rebalance, started, stop } = setUp();
    stop();
    await rebalance.onAssignment(answer(1, [q(0)]));
    expect(started).toEqual([]);
  });

  it("BROADCASTING reads every readable queue of its topics and reports none as held", async () => {
    const route: TopicRouteData = {
      brokerDatas: [{ cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: { "0": "broker-a" } }],
      queueDatas: [{ brokerName: "broker-a", readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 }],
    };
    const { rebalance, subscriptions } = setUp("BROADCASTING", { T: route });
    subscriptions.set("Missing", { topic: "Missing", expressionType: "TAG", expression: "*" });
    await rebalance.onAssignment(answer(1, []));
    expect(ids(rebalance.assignedQueues)).toEqual([0, 1]);
    expect(rebalance.heldQueues()).toEqual([]);
  });

  it("shutdown stops every pull loop but keeps the queues until their offsets are committed", async () => {
    const { rebalance, started } = setUp();
    await rebalance.onAssignment(answer(1, [q(0), q(1)]));
    await rebalance.stopPulling();
    expect(started.every((t) => t.abort.signal.aborted)).toBe(true);
    expect(rebalance.activeTasks).toHaveLength(2);
    rebalance.clear();
    expect(rebalance.activeTasks).toEqual([]);
  });
});
