/** The queues of a topic as its route lists them, for the scenarios that read every queue's stats. */
import type { MessageQueue, TopicRouteData } from "../client/index.js";

export const readQueuesOf = (route: TopicRouteData, topic: string): MessageQueue[] =>
  route.queueDatas.flatMap((q) => Array.from({ length: q.writeQueueNums }, (_, queueId) => ({ topic, brokerName: q.brokerName, queueId })));
