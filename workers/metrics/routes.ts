/**
 * GET /metrics (admins only): the deployment in Prometheus text format. Queue figures come from
 * every topic's master queue objects (one read-only call each, QueueDO.metrics), named after
 * RocketMQ's exporter where it has the figure (rocketmq_producer_offset, rocketmq_consumer_offset,
 * rocketmq_group_diff, rocketmq_group_retrydiff, rocketmq_group_dlqdiff) and flaremq_* otherwise;
 * request and send counts are this isolate's (request-metrics.ts).
 */
import { Hono } from "hono";
import { dlqTopic, retryTopic } from "../../protocol/consumer.js";
import { readConfig } from "../../cluster/config.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { listTopicConfigs } from "../../cluster/topic-registry.js";
import type { QueueMetrics } from "../../durable-objects/queue.js";
import type { AppEnv } from "../shared/app-env.js";
import { Exposition } from "./prometheus.js";
import { LATENCY_BUCKETS_S, requestStats, sendStats } from "./request-metrics.js";

/** Queue objects asked at once; a scrape of a large deployment goes in waves. */
const CONCURRENT_CALLS = 64;

interface QueueFigures {
  topic: string;
  broker: string;
  queueId: number;
  m: QueueMetrics;
}

export const metricsRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const cluster = readConfig(c.env).clusterName;
  const topics = await listTopicConfigs(c.env);
  const targets = topics.flatMap((t) =>
    t.queues.flatMap((q) =>
      Array.from({ length: Math.max(q.readQueueNums, q.writeQueueNums) }, (_, queueId) => ({ topic: t.topic, broker: q.brokerName, queueId })),
    ),
  );
  const figures: QueueFigures[] = [];
  for (let i = 0; i < targets.length; i += CONCURRENT_CALLS) {
    const wave = await Promise.all(
      targets.slice(i, i + CONCURRENT_CALLS).map(async (t) => {
        // A queue that cannot answer (its broker away) is left out of this scrape, not fatal to it.
        const m = await callRpc(() => queueStub(c.env, t.broker, t.topic, t.queueId).metrics()).catch(() => null);
        return m ? { ...t, m } : null;
      }),
    );
    for (const f of wave) if (f) figures.push(f);
  }
  return c.body(render(cluster, figures), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
});

function render(cluster: string, figures: readonly QueueFigures[]): string {
  const x = new Exposition()
    .family("rocketmq_producer_offset", "gauge", "Max offset of a queue: messages stored in it since it was created.")
    .family("flaremq_queue_min_offset", "gauge", "Min offset of a queue: below it, retention has deleted the messages.")
    .family("flaremq_queue_storage_bytes", "gauge", "SQLite bytes the queue object uses.")
    .family("flaremq_queue_parked_waiters", "gauge", "Long polls (pulls, POP receives) parked on the queue now.")
    .family("flaremq_delayed_messages", "gauge", "Delayed and timed messages waiting in the queue.")
    .family("flaremq_half_messages_pending", "gauge", "Transaction half messages waiting for a decision.")
    .family("rocketmq_consumer_offset", "gauge", "A group's committed offset on a queue (a POP group's cursor).")
    .family("flaremq_consumer_inflight_messages", "gauge", "A POP group's messages received and not acked yet, per queue.")
    .family("rocketmq_group_diff", "gauge", "A group's lag on a topic: messages stored and not consumed (POP: not acked).")
    .family("rocketmq_group_retrydiff", "gauge", "A group's lag on its %RETRY% topic.")
    .family("rocketmq_group_dlqdiff", "gauge", "Messages held in a group's %DLQ% topic.")
    .family("flaremq_replication_lag_messages", "gauge", "Messages a slave is behind its master, summed over the broker's queues.")
    .family("flaremq_http_requests_total", "counter", "Requests this isolate answered, per operation and HTTP status.")
    .family(
      "flaremq_http_request_duration_seconds",
      "histogram",
      "Time until the answer, per operation (time spent waiting; Workers clocks stop during CPU work).",
    )
    .family("flaremq_queue_send_channels", "gauge", "Producers' send channels open to the queue.")
    .family("flaremq_queue_pull_channels", "gauge", "Push consumers' pull channels open to the queue.")
    .family(
      "flaremq_messages_sent_total",
      "counter",
      "Messages stored, by SendStatus: over HTTP by this isolate, plus over send channels by the queue objects since they started.",
    );

  const diff = new Map<string, number>(); // "group\ntopic" -> lag
  // A group that consumes a topic lags by everything stored on the topic's queues it has not read
  // yet too (a POP group that has not received from a queue has no state there).
  const queuesOf = new Map<string, { queue: string; unread: number }[]>(); // topic -> its queues
  const queuesRead = new Map<string, Set<string>>(); // "group\ntopic" -> queues with the group's state
  const replication = new Map<string, number>(); // "broker\nbrokerId" -> lag
  const dlq = new Map<string, number>(); // group -> messages held
  const channelSends = new Map<string, number>(); // SendStatus -> messages stored over send channels
  for (const { topic, broker, queueId, m } of figures) {
    const q = { cluster, broker, topic, queueId };
    x.sample("rocketmq_producer_offset", q, m.maxOffset)
      .sample("flaremq_queue_min_offset", q, m.minOffset)
      .sample("flaremq_queue_storage_bytes", q, m.storageBytes)
      .sample("flaremq_queue_parked_waiters", q, m.parkedWaiters)
      .sample("flaremq_queue_send_channels", q, m.sendChannels)
      .sample("flaremq_queue_pull_channels", q, m.pullChannels);
    for (const [status, n] of Object.entries(m.channelSends)) channelSends.set(status, (channelSends.get(status) ?? 0) + n);
    if (m.delayedMessages > 0) x.sample("flaremq_delayed_messages", q, m.delayedMessages);
    if (m.halfMessagesPending > 0) x.sample("flaremq_half_messages_pending", q, m.halfMessagesPending);
    const queue = `${broker}\n${queueId}`;
    queuesOf.set(topic, [...(queuesOf.get(topic) ?? []), { queue, unread: m.maxOffset - m.minOffset }]);
    for (const g of m.groups) {
      x.sample("rocketmq_consumer_offset", { ...q, group: g.group }, g.offset);
      if (g.inflight > 0) x.sample("flaremq_consumer_inflight_messages", { ...q, group: g.group }, g.inflight);
      const key = `${g.group}\n${topic}`;
      diff.set(key, (diff.get(key) ?? 0) + Math.max(0, m.maxOffset - Math.max(g.offset, m.minOffset)) + g.inflight);
      queuesRead.set(key, (queuesRead.get(key) ?? new Set()).add(queue));
    }
    if (topic.startsWith("%DLQ%")) {
      const group = topic.slice("%DLQ%".length);
      dlq.set(group, (dlq.get(group) ?? 0) + (m.maxOffset - m.minOffset));
    }
    for (const s of m.slaves) {
      if (s.lagMessages === null) continue;
      const key = `${broker}\n${s.brokerId}`;
      replication.set(key, (replication.get(key) ?? 0) + s.lagMessages);
    }
  }
  for (const [key, read] of queuesRead) {
    const topic = key.slice(key.indexOf("\n") + 1);
    for (const { queue, unread } of queuesOf.get(topic) ?? []) if (!read.has(queue)) diff.set(key, (diff.get(key) ?? 0) + unread);
  }
  for (const [key, lag] of diff) {
    const [group, topic] = key.split("\n") as [string, string];
    if (topic === retryTopic(group)) x.sample("rocketmq_group_retrydiff", { cluster, group }, lag);
    else if (topic !== dlqTopic(group)) x.sample("rocketmq_group_diff", { cluster, group, topic }, lag);
  }
  for (const [group, held] of dlq) x.sample("rocketmq_group_dlqdiff", { cluster, group }, held);
  for (const [key, lag] of replication) {
    const [broker, brokerId] = key.split("\n") as [string, string];
    x.sample("flaremq_replication_lag_messages", { cluster, broker, brokerId }, lag);
  }
  for (const [operation, s] of requestStats()) {
    for (const [status, n] of s.byStatus) x.sample("flaremq_http_requests_total", { operation, status }, n);
    LATENCY_BUCKETS_S.forEach((le, i) => x.sample("flaremq_http_request_duration_seconds", { operation, le }, s.buckets[i]!, "_bucket"));
    x.sample("flaremq_http_request_duration_seconds", { operation, le: "+Inf" }, s.buckets[LATENCY_BUCKETS_S.length]!, "_bucket");
    x.sample("flaremq_http_request_duration_seconds", { operation }, s.sumSeconds, "_sum");
    x.sample("flaremq_http_request_duration_seconds", { operation }, s.count, "_count");
  }
  const sent = new Map(sendStats());
  for (const [status, n] of channelSends) sent.set(status, (sent.get(status) ?? 0) + n);
  for (const [status, n] of sent) x.sample("flaremq_messages_sent_total", { status }, n);
  return x.text();
}
