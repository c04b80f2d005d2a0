/** Route fixtures shared by the client's unit tests, and the NameServer answer of their fake deployments. */
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

/**
 * The NameServer part of a fake deployment's fetch: GET /namesrv/topics/<t>/route answers
 * `routes[t]`, or 404 TOPIC_NOT_EXIST; any other call gets undefined (not a route lookup).
 * `asked` records each topic looked up, in order.
 */
export function routeAnswer(
  path: string,
  method: string | undefined,
  routes: Readonly<Record<string, TopicRouteData>>,
  asked?: string[],
): Response | undefined {
  const r = /^\/namesrv\/topics\/([^/]+)\/route$/.exec(path);
  if (!r || method !== "GET") return undefined;
  const topic = decodeURIComponent(r[1]!);
  asked?.push(topic);
  const found = routes[topic];
  return found ? Response.json(found) : Response.json({ code: "TOPIC_NOT_EXIST", message: `no route for ${topic}` }, { status: 404 });
}
