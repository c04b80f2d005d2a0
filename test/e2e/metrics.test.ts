/**
 * GET /metrics through the real server: after sends, an offset commit and a POP receive, the
 * Prometheus document carries the queues' offsets, the groups' offsets and lag (a POP group's
 * in-flight messages counted), sends by status and the request histogram.
 */
import { describe, expect } from "vitest";
import { PullConsumer, SimpleConsumer } from "../../client/index.js";
import { it } from "../fixture.js";
import { uniqueName } from "../helpers.js";

/** The samples of a document as "name{labels}" → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe("GET /metrics", () => {
  it("reports queue offsets, group offsets and lag, sends by status and requests per operation", async ({ server, admin, producer }) => {
    const topic = uniqueName("Metrics");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `m-${i}` });
    const pulled = uniqueName("cg");
    const pull = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group: pulled });
    const [mq] = await pull.fetchSubscribeMessageQueues(topic);
    await pull.updateConsumeOffset(mq!, 2);
    const popped = uniqueName("sc");
    const simple = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group: popped, awaitDurationMs: 0 }).subscribe(topic);
    expect(await simple.receive(1, 60_000)).toHaveLength(1);

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const s = samples(text);
    const q = `cluster="DefaultCluster",broker="broker-a",topic="${topic}",queueId="0"`;
    expect(s.get(`rocketmq_producer_offset{${q}}`)).toBe(5);
    expect(s.get(`rocketmq_consumer_offset{${q},group="${pulled}"}`)).toBe(2);
    expect(s.get(`rocketmq_group_diff{cluster="DefaultCluster",group="${pulled}",topic="${topic}"}`)).toBe(3);
    // The POP group handed out 1 (cursor 1) and has not acked it: 4 not received + 1 in flight.
    expect(s.get(`rocketmq_consumer_offset{${q},group="${popped}"}`)).toBe(1);
    expect(s.get(`flaremq_consumer_inflight_messages{${q},group="${popped}"}`)).toBe(1);
    expect(s.get(`rocketmq_group_diff{cluster="DefaultCluster",group="${popped}",topic="${topic}"}`)).toBe(5);
    expect(s.get(`flaremq_messages_sent_total{status="SEND_OK"}`)).toBeGreaterThanOrEqual(5);
    // The producer batches single sends: they travel as multi-queue sends.
    const sends = 'operation="POST /topics/:topic/messages"';
    expect(s.get(`flaremq_http_requests_total{${sends},status="200"}`)).toBeGreaterThanOrEqual(1);
    expect(s.get(`flaremq_http_request_duration_seconds_count{${sends}}`)).toBe(s.get(`flaremq_http_request_duration_seconds_bucket{${sends},le="+Inf"}`));
    expect(text).toContain("# TYPE flaremq_http_request_duration_seconds histogram");
  });

  it("counts a group's lag on every queue of the topic, also the queues it has not read from yet", async ({ server, admin, producer }) => {
    const topic = uniqueName("MetricsLag");
    await admin.createTopic(topic, { queueNums: 2, brokers: ["broker-a"] });
    for (const queueId of [0, 1]) {
      for (let i = 0; i < 3; i++) await producer.send({ topic, body: `m-${queueId}-${i}` }, { messageQueue: { topic, brokerName: "broker-a", queueId } });
    }
    const popped = uniqueName("sc");
    const simple = new SimpleConsumer({ endpoint: server.url, credentials: server.credentials, group: popped, awaitDurationMs: 0 }).subscribe(topic);
    expect(await simple.receive(1, 60_000)).toHaveLength(1);
    const s = samples(await (await fetch(`${server.url}/metrics`)).text());
    // One queue has the group's state (1 in flight, 2 not received), the other none (3 not received).
    expect(s.get(`rocketmq_group_diff{cluster="DefaultCluster",group="${popped}",topic="${topic}"}`)).toBe(6);
  });
});
