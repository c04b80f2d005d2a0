/** Route data shaped like RocketMQ's TopicRouteData. */

/** Permission bits, as RocketMQ's PermName. */
export const Perm = { PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 } as const;

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId → address. Addresses are paths relative to the endpoint (e.g. `/brokers/broker-a`). */
  brokerAddrs: Record<string, string>;
}

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface TopicRouteData {
  brokerDatas: BrokerData[];
  queueDatas: QueueData[];
}

/** What the NameServer stores for one topic. */
export interface TopicConfig {
  topic: string;
  queues: QueueData[];
  createdAt: number;
  updatedAt: number;
}

export function canRead(perm: number): boolean {
  return (perm & Perm.READ) === Perm.READ;
}

export function canWrite(perm: number): boolean {
  return (perm & Perm.WRITE) === Perm.WRITE;
}

/** A broker's HTTP address; a slave is the same path with its brokerId (reads only). */
export function brokerAddress(brokerName: string, brokerId = 0): string {
  const base = `/brokers/${encodeURIComponent(brokerName)}`;
  return brokerId === 0 ? base : `${base}?brokerId=${brokerId}`;
}

/** A broker's role, as RocketMQ's BrokerRole. */
export type BrokerRole = "ASYNC_MASTER" | "SYNC_MASTER" | "SLAVE";

/** RocketMQ's MixAll.MASTER_ID. */
export const MASTER_ID = 0;

/** One topic in a broker's own topic config table (RocketMQ's TopicConfig). */
export interface BrokerTopicConfig {
  topic: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
  createdAt: number;
  updatedAt: number;
}

/** What a broker sends a NameServer on every heartbeat (RocketMQ's RegisterBrokerRequest). */
export interface BrokerRegistration {
  clusterName: string;
  brokerName: string;
  /** brokerId → role: 0 is the master, the rest its slaves. */
  brokerIds: Record<string, BrokerRole>;
  /** RocketMQ's brokerPermission (READ | WRITE); a drained broker lacks WRITE. */
  permission: number;
  /** Bumped on every change of the topic table or permission; equal versions carry no topics. */
  dataVersion: number;
  /** The full topic table (perm already masked by the broker's permission), or null for a plain heartbeat. */
  topics: BrokerTopicConfig[] | null;
}

/** A broker as a NameServer sees it (cluster list). */
export interface LiveBrokerInfo {
  clusterName: string;
  brokerName: string;
  brokerIds: Record<string, BrokerRole>;
  brokerAddrs: Record<string, string>;
  permission: number;
  dataVersion: number;
  lastUpdateTimestamp: number;
  /** False once the broker has been silent longer than the expiry: its queues are out of the routes. */
  alive: boolean;
  topicCount: number;
}

export function brokerAddrs(brokerName: string, brokerIds: Record<string, BrokerRole>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of Object.keys(brokerIds)) out[id] = brokerAddress(brokerName, Number(id));
  return out;
}
