/** cluster list (mqadmin clusterList) as the server answers it and the client reads it. */
import type { LiveBrokerInfo } from "./route.js";

export interface SlaveReplication {
  brokerId: number;
  /** Messages the slave lacks, summed over the broker's queues; null while some queue has not heard from it since its start. */
  lagMessages: number | null;
  /** Oldest last acknowledgement among the queues asked (epoch ms), null if none yet. */
  oldestAckAt: number | null;
  /** Queues whose last push to this slave failed. */
  failingQueues: number;
}

export interface ClusterBroker extends LiveBrokerInfo {
  topics: string[];
  /**
   * Replication lag, asked of the broker's queue objects (up to 512 of them): admins only (and
   * open servers); null for other accounts.
   */
  replication: { queuesChecked: number; partial: boolean; slaves: SlaveReplication[] } | null;
}

export interface ClusterInfo {
  clusterName: string;
  autoCreateTopicEnable: boolean;
  /** NameServer instances: brokers register with each, reads fail over. */
  nameServers: string[];
  brokerHeartbeatIntervalMs: number;
  brokerExpiryMs: number;
  brokers: ClusterBroker[];
}
