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

export function brokerAddress(brokerName: string): string {
  return `/brokers/${encodeURIComponent(brokerName)}`;
}
