/**
 * Topic routes on the client: fetched from the NameServer, cached, refreshed on an interval
 * (RocketMQ's pollNameServerInterval, 30 s) and at once after a send fails for a route reason.
 */
import { isMQError, MQError } from "../protocol/errors.js";
import { AUTO_CREATE_TOPIC_KEY } from "../protocol/names.js";
import { canRead, canWrite, notWritableMessage, Perm, type TopicRouteData } from "../protocol/route.js";
import type { MessageQueue } from "../protocol/message.js";
import { pathSegment, type CallOptions, type Transport } from "./transport.js";

interface Entry {
  route: TopicRouteData;
  fetchedAt: number;
}

export class RouteCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly transport: Transport,
    private readonly refreshIntervalMs: number,
  ) {}

  async get(topic: string, options: CallOptions = {}): Promise<TopicRouteData> {
    const hit = this.entries.get(topic);
    if (hit && Date.now() - hit.fetchedAt < this.refreshIntervalMs) return hit.route;
    const route = await this.transport.request<TopicRouteData>(`/namesrv/topics/${pathSegment(topic)}/route`, options);
    this.entries.set(topic, { route, fetchedAt: Date.now() });
    return route;
  }

  invalidate(topic: string): void {
    this.entries.delete(topic);
  }
}

/** Write queues in RocketMQ's order: by broker as listed, then queueId. */
export function writeQueues(topic: string, route: TopicRouteData, limitPerBroker = Infinity): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const q of route.queueDatas) {
    if (!canWrite(q.perm)) continue;
    const n = Math.min(q.writeQueueNums, limitPerBroker);
    for (let queueId = 0; queueId < n; queueId++) out.push({ topic, brokerName: q.brokerName, queueId });
  }
  return out;
}

export function readQueues(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const q of route.queueDatas) {
    if (!canRead(q.perm)) continue;
    for (let queueId = 0; queueId < q.readQueueNums; queueId++) out.push({ topic, brokerName: q.brokerName, queueId });
  }
  return out;
}

/**
 * Queues to send to: the topic's own route, or — for a topic that does not exist yet — the
 * auto-create template (TBW102) limited to `defaultTopicQueueNums`, as RocketMQ's producer
 * does; the broker then creates the topic on the first send. A topic whose every queue lacks
 * the write permission is refused with NO_PERMISSION naming its permission.
 */
export async function publishQueues(routes: RouteCache, topic: string, defaultTopicQueueNums: number, options: CallOptions = {}): Promise<MessageQueue[]> {
  try {
    const route = await routes.get(topic, options);
    const queues = writeQueues(topic, route);
    // The topic exists but takes no sends: its permission says so, not a missing topic.
    if (queues.length === 0 && route.queueDatas.length > 0) throw new MQError("NO_PERMISSION", notWritableMessage(topic, route.queueDatas));
    return queues;
  } catch (e) {
    if (!isMQError(e) || e.code !== "TOPIC_NOT_EXIST") throw e;
    let template: TopicRouteData;
    try {
      template = await routes.get(AUTO_CREATE_TOPIC_KEY, options);
    } catch {
      throw e;
    }
    // Only a template that is inheritable may stand in for a new topic.
    if (!template.queueDatas.some((q) => (q.perm & Perm.INHERIT) === Perm.INHERIT)) throw e;
    routes.invalidate(topic);
    return writeQueues(topic, template, defaultTopicQueueNums);
  }
}

export function brokerPath(mq: MessageQueue): string {
  return `/brokers/${pathSegment(mq.brokerName)}/topics/${pathSegment(mq.topic)}/queues/${mq.queueId}`;
}
