/**
 * One allocation strategy per group. Every member of a RocketMQ group must be configured
 * alike; here the group object allocates for all of them, so members asking for different
 * strategies cannot both be served: a group that followed the last heartbeat would flip and
 * rebalance on every one. A member that names no strategy takes the group's.
 */
import type { AllocateStrategyName } from "../../protocol/allocate.js";
import type { HeartbeatRequest } from "../../protocol/consumer.js";

/** RocketMQ's default, AllocateMessageQueueAveragely. */
export const DEFAULT_STRATEGY: AllocateStrategyName = "AVERAGELY";

type Member = Pick<HeartbeatRequest, "clientId" | "messageModel" | "allocateStrategy">;

/** The strategy the clustering members name (they agree: see strategyConflict), else the default. */
export function groupStrategy(members: Iterable<Member>): AllocateStrategyName {
  for (const m of members) if (m.messageModel === "CLUSTERING" && m.allocateStrategy) return m.allocateStrategy;
  return DEFAULT_STRATEGY;
}

/**
 * The strategy another clustering member of `others` names when `req` names a different one,
 * else null. Broadcasting members read every queue: their strategy plays no part.
 */
export function strategyConflict(others: Iterable<Member>, req: Member): AllocateStrategyName | null {
  if (req.messageModel !== "CLUSTERING" || !req.allocateStrategy) return null;
  for (const m of others) {
    if (m.clientId === req.clientId || m.messageModel !== "CLUSTERING" || !m.allocateStrategy) continue;
    if (m.allocateStrategy !== req.allocateStrategy) return m.allocateStrategy;
  }
  return null;
}
