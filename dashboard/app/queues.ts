/**
 * A topic's queues as the dashboard lists them: from its route, brokers in name order, readable
 * queues for reads and writable ones for sends (the client's own route helpers pick them).
 */
import { readQueues, writeQueues } from "../../client/routes.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { TopicRouteData } from "../../protocol/route.js";
import { byKey } from "./format.js";

export function routeQueues(topic: string, route: TopicRouteData, access: "read" | "write"): MessageQueue[] {
  const sorted: TopicRouteData = { ...route, queueDatas: [...route.queueDatas].sort(byKey((q) => q.brokerName)) };
  return access === "write" ? writeQueues(topic, sorted) : readQueues(topic, sorted);
}

/** `broker-a:3`, as the tables show a queue. */
export function queueLabel(mq: { brokerName: string; queueId: number }): string {
  return `${mq.brokerName}:${mq.queueId}`;
}

/** Round-robin over a topic's write queues, per topic, as the Send view spreads test messages. */
export class RoundRobin {
  private readonly next = new Map<string, number>();

  pick<T>(topic: string, queues: readonly T[]): T | undefined {
    if (queues.length === 0) return undefined;
    const i = this.next.get(topic) ?? 0;
    this.next.set(topic, i + 1);
    return queues[i % queues.length];
  }
}
