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

/** A permission as a number and as RocketMQ's PermName.perm2String writes it: `4 (R--)`, `7 (RWX)`. */
export function permText(perm: number): string {
  const flag = (bit: number, letter: string) => ((perm & bit) === bit ? letter : "-");
  return `${perm} (${flag(Perm.READ, "R")}${flag(Perm.WRITE, "W")}${flag(Perm.INHERIT, "X")})`;
}

/**
 * Why a send to `topic` is refused when none of these queue data allows writing (RocketMQ: "the
 * topic[T] not writeable"): the topic and its permission on each broker, so the operator sees
 * it is a permission (topic update --perm, or a drained broker) and not a missing topic.
 */
export function notWritableMessage(topic: string, queues: readonly Pick<QueueData, "brokerName" | "perm">[]): string {
  const perms = queues.map((q) => `${permText(q.perm)} on ${q.brokerName}`).join(", ");
  return `topic "${topic}" is not writable: its permission is ${perms}; a send needs W (2 or 6)`;
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

/**
 * What a broker member sends a NameServer on every heartbeat (RocketMQ's RegisterBrokerRequest):
 * the master (brokerId 0) and each slave register on their own, so a broker whose master is
 * gone stays in the routes, readable from its slave.
 */
export interface BrokerRegistration {
  clusterName: string;
  brokerName: string;
  brokerId: number;
  role: BrokerRole;
  /** RocketMQ's brokerPermission (READ | WRITE); a drained broker lacks WRITE. */
  permission: number;
  /**
   * The master's incarnation (when its storage was first started): a broker removed and added
   * again starts its versions afresh under a later incarnation.
   */
  incarnation: number;
  /** The broker's topic-table version (the master's; a slave registers the copy it holds). */
  dataVersion: number;
  /** The full topic table (perm as the broker sets it), or null for a plain heartbeat. */
  topics: BrokerTopicConfig[] | null;
}

export interface BrokerMemberInfo {
  brokerId: number;
  role: BrokerRole;
  lastUpdateTimestamp: number;
  /** False once silent longer than the expiry. */
  alive: boolean;
}

/** A broker as a NameServer sees it (cluster list). */
export interface LiveBrokerInfo {
  clusterName: string;
  brokerName: string;
  /** brokerId → role of every member known, alive or not. */
  brokerIds: Record<string, BrokerRole>;
  /** Addresses of the members alive now. */
  brokerAddrs: Record<string, string>;
  /** The master's permission; without a live master, READ only. */
  permission: number;
  dataVersion: number;
  /** The latest heartbeat of any member. */
  lastUpdateTimestamp: number;
  /** True while any member is alive: the broker's queues stay in the routes. */
  alive: boolean;
  members: BrokerMemberInfo[];
  topicCount: number;
}

export function brokerAddrs(brokerName: string, brokerIds: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of Object.keys(brokerIds)) out[id] = brokerAddress(brokerName, Number(id));
  return out;
}
