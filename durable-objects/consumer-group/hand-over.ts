/**
 * Hand-over of a queue that moves from one member to another at a rebalance: a live member that
 * still reads it keeps it at the queue object (so it can commit the offsets of what it finished)
 * and nobody else gets it, until the member's heartbeat no longer lists it or RELEASE_TIMEOUT_MS
 * passes. Only members that report the queues they hold get a hand-over; any other is fenced at
 * once. Pure functions: the group object keeps the hand-overs in progress and applies the result.
 */
import type { HeartbeatRequest } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import { queueKey } from "./assignment.js";

/** How long a live member may keep a queue that moves away before it is taken from it. */
export const RELEASE_TIMEOUT_MS = 10_000;

/** A queue being handed over: the member still reading it, and since when. */
export interface Releasing {
  from: string;
  since: number;
}

/**
 * Whether a member may still be reading a queue: it says so, or its report predates the latest
 * assignment (it may have started the queue since). A member that does not report held queues
 * (a plain HTTP client) gets no hand-over: it is fenced at once.
 */
export function holds(member: HeartbeatRequest, key: string, generation: number): boolean {
  if (member.heldQueues === undefined) return false;
  if ((member.generation ?? -1) < generation) return true;
  return member.heldQueues.some((q) => queueKey(q) === key);
}

/** What a member reports holding; a heartbeat that changes it may let a hand-over finish. */
export function heldShape(m: HeartbeatRequest): string {
  return JSON.stringify([m.generation ?? -1, (m.heldQueues ?? []).map(queueKey).sort()]);
}

/**
 * Holds back the queues still being handed over. `owners` (queue key → new owner, null for none)
 * and `next` (the new assignment) are the rebalance's proposal, adjusted in place: a queue moving
 * away from a live member that still holds it stays that member's at the queue object and leaves
 * its new owner's share. `told` is the owner each queue was last told, `releasing` the
 * hand-overs in progress before this rebalance. Returns those still in progress after it.
 */
export function holdBackReleasing(
  owners: Map<string, string | null>,
  next: Map<string, MessageQueue[]>,
  told: { get(key: string): string | null | undefined },
  members: ReadonlyMap<string, HeartbeatRequest>,
  releasing: ReadonlyMap<string, Releasing>,
  generation: number,
  now: number,
): Map<string, Releasing> {
  const stillReleasing = new Map<string, Releasing>();
  for (const [key, cid] of owners) {
    const from = told.get(key);
    if (from === undefined || from === null || from === cid) continue;
    const member = members.get(from);
    const since = releasing.get(key)?.since ?? now;
    if (!member || !holds(member, key, generation) || now - since >= RELEASE_TIMEOUT_MS) continue;
    stillReleasing.set(key, { from, since });
    owners.set(key, from);
    if (cid !== null)
      next.set(
        cid,
        (next.get(cid) ?? []).filter((q) => queueKey(q) !== key),
      );
  }
  return stillReleasing;
}
