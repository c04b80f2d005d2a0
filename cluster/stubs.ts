/**
 * The one directory of Durable Object names and stubs: every object is reached through a helper
 * here (as partyserver's getServerByName), so a name rule is written once, the edge and the
 * objects build the same names, and a slave is placed the same way wherever it is first called.
 * Test faults (cluster/faults.ts: unreachable NameServers, masters and slaves) are applied here
 * too, only under the test configuration, and so is the count of calls the benchmark reads
 * (cluster/request-meter.ts).
 */
import type { TopicConfig } from "../protocol/route.js";
import type { MessageQueue } from "../protocol/message.js";
import type { Env } from "./env.js";
import { readConfig } from "./config.js";
import { currentFaults, unreachableStub } from "./faults.js";
import { callRpc } from "./rpc-errors.js";
import { meteredStub } from "./request-meter.js";

export type QueueStub = ReturnType<Env["QUEUE"]["get"]>;
export type BrokerStub = ReturnType<Env["BROKER"]["get"]>;
export type NameServerStub = ReturnType<Env["NAMESRV"]["get"]>;

/**
 * One object per (broker, brokerId, topic, queueId); the name is stable forever, so it is the
 * key. The master (brokerId 0) keeps the name of releases without slaves.
 */
export function queueObjectName(brokerName: string, topic: string, queueId: number, brokerId = 0): string {
  return brokerId === 0 ? `${brokerName}/${topic}/${queueId}` : `${brokerName}@${brokerId}/${topic}/${queueId}`;
}

/** The object name of a broker member: the master is the broker name, a slave `<name>@<id>`. */
export function brokerMemberName(brokerName: string, brokerId: number): string {
  return brokerId === 0 ? brokerName : `${brokerName}@${brokerId}`;
}

/** A slave member's object (brokerId > 0) is placed by SLAVE_LOCATION_HINT when set (only the first call places it). */
function getMember<T extends Env["QUEUE"] | Env["BROKER"]>(env: Env, ns: T, name: string, brokerId: number): ReturnType<T["get"]> {
  const id = ns.idFromName(name);
  const hint = brokerId === 0 ? undefined : readConfig(env).slaveLocationHint;
  const stub = (hint ? ns.get(id, { locationHint: hint as DurableObjectLocationHint }) : ns.get(id)) as ReturnType<T["get"]>;
  return meteredStub(env, ns === env.QUEUE ? "QueueDO" : "BrokerDO", stub);
}

/** A queue object: the master's (brokerId 0), or a slave's. */
export function queueStub(env: Env, brokerName: string, topic: string, queueId: number, brokerId = 0): QueueStub {
  return getMember(env, env.QUEUE, queueObjectName(brokerName, topic, queueId, brokerId), brokerId);
}

/**
 * The master's queue object as the broker routes reach it: under the test configuration a
 * broker's master can be made unreachable, every call failing without an answer.
 */
export function routedQueueStub(env: Env, brokerName: string, topic: string, queueId: number): QueueStub {
  if (env.TEST_FAULTS_ENABLED === "true" && currentFaults().unreachableMasters.includes(brokerName)) {
    return unreachableStub<QueueStub>(`master of ${brokerName}`);
  }
  return queueStub(env, brokerName, topic, queueId);
}

/** A slave's queue object. */
export function slaveQueueStub(env: Env, mq: MessageQueue, brokerId: number): QueueStub {
  return queueStub(env, mq.brokerName, mq.topic, mq.queueId, brokerId);
}

/**
 * A master's replication call to one of its slaves. The master keeps it, so the test fault that
 * cuts a broker's slaves off is asked on every call.
 */
export function slaveReplicateCall(env: Env, mq: MessageQueue, brokerId: number) {
  const stub = slaveQueueStub(env, mq, brokerId);
  const testFaults = readConfig(env).testFaultsEnabled;
  return (batch: Parameters<QueueStub["replicate"]>[0]) =>
    testFaults && currentFaults().unreachableSlaves.includes(mq.brokerName)
      ? Promise.reject(new Error(`slave ${brokerId} of ${mq.brokerName} unreachable (test fault)`))
      : stub.replicate(batch);
}

/** A broker member's object: the master's (brokerId 0) owns the topic table, a slave's holds a copy. */
export function brokerStub(env: Env, brokerName: string, brokerId = 0): BrokerStub {
  return getMember(env, env.BROKER, brokerMemberName(brokerName, brokerId), brokerId);
}

/** One NameServer instance's object (cluster/nameservers.ts fans out over them). */
export function nameServerStub(env: Env, instance: string): NameServerStub {
  // Fault injection only under the test configuration, never in a deployed one.
  if (env.TEST_FAULTS_ENABLED === "true" && currentFaults().unreachableNameServers.includes(instance)) {
    return unreachableStub<NameServerStub>(instance);
  }
  return meteredStub(env, "NameServerDO", env.NAMESRV.get(env.NAMESRV.idFromName(instance)));
}

export function producerGroupStub(env: Env, group: string) {
  return meteredStub(env, "ProducerGroupDO", env.PRODUCER_GROUP.get(env.PRODUCER_GROUP.idFromName(group)));
}

export function consumerGroupStub(env: Env, group: string) {
  return meteredStub(env, "ConsumerGroupDO", env.CONSUMER_GROUP.get(env.CONSUMER_GROUP.idFromName(group)));
}

/** The one object holding managed accounts. */
export function accountsStub(env: Env) {
  return meteredStub(env, "AccountsDO", env.ACCOUNTS.get(env.ACCOUNTS.idFromName("accounts")));
}

/** One object per access key: the nonces of its signed requests. */
export function replayGuardStub(env: Env, accessKey: string) {
  return meteredStub(env, "ReplayGuardDO", env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(accessKey)));
}

/** Empties every queue of a deleted topic, on the master and on every slave. */
export async function purgeTopicQueues(env: Env, config: TopicConfig): Promise<void> {
  const slaves = readConfig(env).slavesPerBroker;
  const queues = config.queues.flatMap((q) =>
    Array.from({ length: Math.max(q.readQueueNums, q.writeQueueNums) }, (_, queueId) => ({ topic: config.topic, brokerName: q.brokerName, queueId })),
  );
  // Slaves first: a master purged first could push its new log before its slave was emptied.
  // The epoch of the new log guards that too; the order keeps a failed delete retryable.
  const slaveCalls = queues.flatMap((mq) => Array.from({ length: slaves }, (_, i) => callRpc(() => slaveQueueStub(env, mq, i + 1).purge())));
  await Promise.all(slaveCalls);
  await Promise.all(queues.map((mq) => callRpc(() => queueStub(env, mq.brokerName, mq.topic, mq.queueId).purge())));
}

/**
 * Ends the send and pull channels of a topic's master queues (on `brokerName` only, when given):
 * its route or permission changed, so clients' next frames go through a new upgrade that checks
 * them. Best effort: a channel this misses still ends within its age.
 */
export async function endTopicChannels(env: Env, config: TopicConfig, brokerName?: string): Promise<void> {
  const queues = config.queues
    .filter((q) => brokerName === undefined || q.brokerName === brokerName)
    .flatMap((q) => Array.from({ length: Math.max(q.readQueueNums, q.writeQueueNums) }, (_, queueId) => ({ brokerName: q.brokerName, queueId })));
  await Promise.allSettled(queues.map((q) => queueStub(env, q.brokerName, config.topic, q.queueId).endChannels()));
}
