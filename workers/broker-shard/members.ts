/**
 * Which member of a broker serves a read: the master, or one of its slaves when the master
 * does not answer, when only slaves are registering, or when the consumer was sent there.
 */
import type { MessageQueue } from "../../protocol/message.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { callRpc, fromRpcError, isUnansweredRpc } from "../../cluster/rpc-errors.js";
import { slaveQueueStub, type QueueStub } from "../../cluster/stubs.js";

/**
 * Runs a call on the queue's master, or on a slave: the one asked for (`brokerId` > 0, as a
 * master's suggestion; the master if that slave does not answer), or the first slave when the
 * master does not answer. Returns which member answered. Coded refusals are never retried
 * elsewhere.
 */
export async function onMember<T>(
  env: Env,
  { mq, stub: master, aliveSlaves }: { mq: MessageQueue; stub: QueueStub; aliveSlaves: readonly number[] },
  brokerId: number,
  calls: { master: (stub: QueueStub) => Promise<T>; replica: (stub: QueueStub) => Promise<T> },
): Promise<{ value: T; brokerId: number }> {
  const slaves = readConfig(env).slavesPerBroker;
  if (brokerId > 0 && brokerId <= slaves) {
    try {
      return { value: await calls.replica(slaveQueueStub(env, mq, brokerId)), brokerId };
    } catch (e) {
      if (!isUnansweredRpc(e)) throw fromRpcError(e);
    }
  }
  try {
    return { value: await calls.master(master), brokerId: 0 };
  } catch (e) {
    if (slaves === 0 || !isUnansweredRpc(e)) throw fromRpcError(e);
    const fallback = aliveSlaves.find((id) => id !== brokerId) ?? aliveSlaves[0] ?? 1;
    return { value: await callRpc(() => calls.replica(slaveQueueStub(env, mq, fallback))), brokerId: fallback };
  }
}

/** The member a read goes to: the one asked for, or a slave when only slaves are registering. */
export function memberFor(target: { masterAlive: boolean; aliveSlaves: readonly number[] }, asked: number): number {
  if (target.masterAlive) return asked;
  return target.aliveSlaves.includes(asked) ? asked : (target.aliveSlaves[0] ?? 1);
}
