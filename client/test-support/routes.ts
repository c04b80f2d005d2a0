/** Route fixtures shared by the client's unit tests. */
import type { QueueData, TopicRouteData } from "../../protocol/route.js";

/** Queue data of one broker with the same read and write queue count. */
export function qd(brokerName: string, perm: number, queueNums: number): QueueData {
  return { brokerName, perm, writeQueueNums: queueNums, readQueueNums: queueNums, topicSysFlag: 0 };
}

export function route(...queueDatas: QueueData[]): TopicRouteData {
  return {
    brokerDatas: queueDatas.map((q) => ({ cluster: "c", brokerName: q.brokerName, brokerAddrs: { "0": `/brokers/${q.brokerName}` } })),
    queueDatas,
  };
}

/** Two read-write brokers with four queues each. */
export const TWO_BROKERS = route(qd("broker-a", 6, 4), qd("broker-b", 6, 4));
