/**
 * The CONFIG strategy (AllocateMessageQueueByConfig) as a group object applies it: each member
 * names the queues it reads. The names come from the client, so they are checked against the
 * topic's route: a member may name only readable queues of topics it subscribes to (anything
 * else would make the group tell queue objects that do not exist about an owner, creating
 * them), and a queue goes to one member only, since a queue object has one owner per group.
 */
import type { MessageQueue } from "../../protocol/message.js";

function key(q: MessageQueue): string {
  return JSON.stringify([q.topic, q.brokerName, q.queueId]);
}

/**
 * Why one of `configured` cannot be read, or null when each is a readable queue of a
 * subscribed topic. `readable` maps each subscribed topic to its readable queues (empty for a
 * topic that does not exist).
 */
export function illegalConfiguredQueue(configured: readonly MessageQueue[], readable: ReadonlyMap<string, readonly MessageQueue[]>): string | null {
  const known = new Set([...readable.values()].flat().map(key));
  for (const q of configured) {
    const name = `${q.topic}/${q.brokerName}/${q.queueId}`;
    if (!readable.has(q.topic)) return `configured queue ${name}: the member does not subscribe to topic "${q.topic}"`;
    if (!known.has(key(q))) return `configured queue ${name} is not a readable queue of the route of topic "${q.topic}"`;
  }
  return null;
}

/**
 * Each member's share under CONFIG: the queues it names that are among `mqAll` (the route may
 * have shrunk since it named them), without repeats; a queue two members name goes to the first
 * of them in client-id order. Each share keeps the member's own order, as RocketMQ's does.
 */
export function configuredShares(
  configured: Readonly<Record<string, readonly MessageQueue[]>>,
  mqAll: readonly MessageQueue[],
): Record<string, MessageQueue[]> {
  const open = new Set(mqAll.map(key));
  const shares: Record<string, MessageQueue[]> = {};
  for (const cid of Object.keys(configured).sort()) {
    const share: MessageQueue[] = [];
    for (const q of configured[cid] ?? []) {
      if (!open.delete(key(q))) continue; // not in the route, or already given
      share.push({ topic: q.topic, brokerName: q.brokerName, queueId: q.queueId });
    }
    shares[cid] = share;
  }
  return shares;
}
