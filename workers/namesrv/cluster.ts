/**
 * cluster list: every broker the NameServers know, with its role per brokerId, last
 * heartbeat, topics, and replication lag. The lag is asked of up to 512 master queue objects
 * per broker (waking each), so only admins see it, and concurrent cluster lists of an isolate
 * share one round of asking per broker.
 */
import type { ClusterBroker, SlaveReplication } from "../../protocol/cluster.js";
import type { ReplicationStatus } from "../../durable-objects/queue.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { readNameServer } from "../../cluster/nameservers.js";
import { listBrokers } from "../../cluster/topic-registry.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { SharedCalls } from "../shared/shared-calls.js";

/** Queue objects one cluster list asks for replication status, per broker at most. */
const MAX_QUEUES_PER_BROKER = 512;

type Replication = NonNullable<ClusterBroker["replication"]>;
const replicationCalls = new SharedCalls<Replication>();

/** `replication: false` leaves the lag out (null) and wakes no queue object. */
export async function clusterList(env: Env, options: { replication: boolean }): Promise<ClusterBroker[]> {
  const [brokers, topics] = await Promise.all([listBrokers(env, { fresh: true }), readNameServer(env, (ns) => ns.listTopics())]);
  const slaves = readConfig(env).slavesPerBroker;
  return Promise.all(
    brokers.map(async (b) => {
      const held = topics.flatMap((t) => t.queues.filter((q) => q.brokerName === b.brokerName).map((q) => ({ topic: t.topic, q })));
      const replication = options.replication
        ? await replicationCalls.run(`${b.brokerName}/${slaves}`, async () => {
            const queues = held.flatMap(({ topic, q }) =>
              Array.from({ length: Math.max(q.readQueueNums, q.writeQueueNums) }, (_, queueId) => ({ topic, queueId })),
            );
            const asked = slaves > 0 ? queues.slice(0, MAX_QUEUES_PER_BROKER) : [];
            const statuses = await Promise.all(
              asked.map(({ topic, queueId }) => callRpc(() => queueStub(env, b.brokerName, topic, queueId).replicationStatus()).catch(() => null)),
            );
            return { queuesChecked: asked.length, partial: asked.length < queues.length, slaves: summarise(slaves, statuses) };
          })
        : null;
      return { ...b, topics: held.map((h) => h.topic), replication };
    }),
  );
}

function summarise(slaves: number, statuses: readonly (ReplicationStatus | null)[]): SlaveReplication[] {
  const out: SlaveReplication[] = [];
  for (let brokerId = 1; brokerId <= slaves; brokerId++) {
    let lag: number | null = 0;
    let oldest: number | null = null;
    let failing = 0;
    for (const s of statuses) {
      if (!s) continue;
      const slave = s.slaves.find((x) => x.brokerId === brokerId);
      // A queue that has never stored anything has nothing to lag behind.
      if (s.maxOffset === 0) continue;
      if (!slave || slave.lagMessages === null) lag = null;
      else if (lag !== null) lag += slave.lagMessages;
      if (slave?.lastAckAt != null) oldest = oldest === null ? slave.lastAckAt : Math.min(oldest, slave.lastAckAt);
      if (slave?.lastError) failing++;
    }
    out.push({ brokerId, lagMessages: lag, oldestAckAt: oldest, failingQueues: failing });
  }
  return out;
}
