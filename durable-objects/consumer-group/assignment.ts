/**
 * The consumer group's assignment as pure functions: which queues of each subscribed topic every
 * clustering member reads (the group's strategy, from protocol/allocate.ts, over the readable
 * queues of the topic's route), the assignment a restarted object restores from the owners it
 * stored, and what counts as a change worth a new generation. Queues are keyed by their queue
 * object's name, the key the group stores owners under.
 */
import { allocateAll, compareMessageQueues, type AllocateStrategyName } from "../../protocol/allocate.js";
import type { HeartbeatRequest } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import { canRead, type TopicConfig } from "../../protocol/route.js";
import { queueObjectName } from "../../cluster/stubs.js";
import { configuredShares } from "./configured-queues.js";

/** Member → its queues, in the order the strategy lists them. */
export type Assignment = Map<string, MessageQueue[]>;

/** The queue object's name doubles as the key: `<broker>/<topic>/<queueId>`. */
export function queueKey(q: MessageQueue): string {
  return queueObjectName(q.brokerName, q.topic, q.queueId);
}

export function parseQueueKey(key: string): MessageQueue {
  const first = key.indexOf("/");
  const last = key.lastIndexOf("/");
  return { brokerName: key.slice(0, first), topic: key.slice(first + 1, last), queueId: Number(key.slice(last + 1)) };
}

/** The queues of a topic's route that can be read (none for a topic that does not exist). */
export function readQueuesOf(topic: string, config: TopicConfig | null): MessageQueue[] {
  if (!config) return [];
  return config.queues
    .filter((q) => canRead(q.perm))
    .flatMap((q) => Array.from({ length: q.readQueueNums }, (_, queueId) => ({ topic, brokerName: q.brokerName, queueId })));
}

/**
 * Allocates every topic's readable queues among the clustering members subscribing to it, topic
 * by topic in the order given; each member's queues are its shares in that order. Returns the
 * assignment and each allocated queue's owner (keyed by queueKey).
 */
export function allocateTopics(
  strategy: AllocateStrategyName,
  clustering: readonly HeartbeatRequest[],
  topics: readonly string[],
  routes: ReadonlyMap<string, TopicConfig | null>,
): { assignment: Assignment; owners: Map<string, string | null> } {
  const next: Assignment = new Map();
  const owners = new Map<string, string | null>();
  for (const topic of topics) {
    const mqAll = readQueuesOf(topic, routes.get(topic) ?? null);
    const cidAll = clustering.filter((m) => m.subscriptions.some((s) => s.topic === topic)).map((m) => m.clientId);
    const clientRooms: Record<string, string> = {};
    for (const m of clustering) if (m.zone) clientRooms[m.clientId] = m.zone;
    const named: Record<string, MessageQueue[]> = {};
    for (const m of clustering) if (m.configuredQueues) named[m.clientId] = m.configuredQueues.filter((q) => q.topic === topic);
    // Only queues of the route, each to one member: a queue object has one owner per group.
    const configured = configuredShares(named, mqAll);
    const shares = allocateAll(strategy, mqAll, cidAll, { clientRooms, configured });
    for (const [cid, queues] of shares) {
      next.set(cid, [...(next.get(cid) ?? []), ...queues]);
      for (const q of queues) owners.set(queueKey(q), cid);
    }
  }
  return { assignment: next, owners };
}

/**
 * The assignment the members were given, rebuilt after a restart from the owner each queue was
 * told: the queues each clustering member owns, sorted. (A queue being handed over counts as its
 * old owner's; its hand-over starts again at the next rebalance.)
 */
export function restoredAssignment(owners: ReadonlyMap<string, string>, members: ReadonlyMap<string, Pick<HeartbeatRequest, "messageModel">>): Assignment {
  const assignment: Assignment = new Map();
  for (const [key, cid] of owners) {
    if (members.get(cid)?.messageModel !== "CLUSTERING") continue;
    assignment.set(cid, [...(assignment.get(cid) ?? []), parseQueueKey(key)]);
  }
  for (const queues of assignment.values()) queues.sort(compareMessageQueues);
  return assignment;
}

/**
 * Whether every member has the same queues in both. A member with no queue counts the same
 * listed empty or not listed: the assignment restored after a restart lists only owners, while
 * a recomputed one lists each subscribed member, so an idle member would otherwise look moved.
 */
export function sameAssignment(a: Assignment, b: Assignment): boolean {
  const shape = (m: Assignment) =>
    JSON.stringify(
      [...m]
        .filter(([, qs]) => qs.length > 0)
        .map(([cid, qs]) => [cid, qs.map(queueKey).sort()])
        .sort((x, y) => (x[0]! < y[0]! ? -1 : 1)),
    );
  return shape(a) === shape(b);
}

/** What of a member the assignment depends on: a heartbeat that changes it rebalances the group. */
export function memberShape(m: HeartbeatRequest): string {
  return JSON.stringify([m.messageModel, m.subscriptions, m.zone ?? null, m.configuredQueues ?? null, m.allocateStrategy ?? null]);
}

/** Whether a member has been silent for longer than its session timeout. */
export function isExpired(m: { lastHeartbeatAt: number; sessionTimeoutMs: number }, now: number): boolean {
  return now - m.lastHeartbeatAt > m.sessionTimeoutMs;
}
