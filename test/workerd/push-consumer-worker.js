/**
 * A consumer Worker for the push-subscription tests (test/workerd/push-subscription.test.ts):
 * the flaremq Worker under test reaches it through the service binding PUSH_TEST_CONSUMER, by
 * fetch (a POST of the batch) or by RPC (`deliver(batch)`), as a user's consumer Worker would.
 *
 * What it answers is set by each message's properties, so a test scripts failures by what it
 * sends: PUSH_FAIL "always" asks a retry every time, "<n>" while reconsumeTimes < n;
 * PUSH_ORDERLY "true" also asks a retry of every message after a failed one (an orderly
 * consumer stops at its first failure); PUSH_STATUS "<code>" answers the whole batch with that
 * HTTP status (thrown by RPC). A group whose name starts with "hang" is answered only after
 * 20 s (a target that hangs). Every delivered message is recorded per group; GET
 * /records?group=<g> answers them (plain JS: miniflare runs it without a build step).
 */
import { WorkerEntrypoint } from "cloudflare:workers";

/** group → every message delivered, in arrival order. */
const records = new Map();

function handle(batch) {
  const list = records.get(batch.group) ?? [];
  records.set(batch.group, list);
  const retry = [];
  let stopped = false;
  let status = 200;
  for (const m of batch.messages) {
    list.push({
      msgId: m.msgId,
      body: atob(m.body),
      brokerName: m.brokerName,
      queueId: m.queueId,
      queueOffset: m.queueOffset,
      reconsumeTimes: m.reconsumeTimes,
      batch: batch.messages.length,
    });
    const p = m.properties ?? {};
    if (p.PUSH_STATUS) status = Number(p.PUSH_STATUS);
    const fail = p.PUSH_FAIL === "always" || (p.PUSH_FAIL !== undefined && m.reconsumeTimes < Number(p.PUSH_FAIL));
    if (fail || stopped) retry.push(m.msgId);
    if (fail && p.PUSH_ORDERLY === "true") stopped = true;
  }
  return { status, answer: retry.length ? { retry } : {} };
}

export default class PushTestConsumer extends WorkerEntrypoint {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/records") {
      return Response.json(records.get(url.searchParams.get("group")) ?? []);
    }
    const batch = await request.json();
    if (batch.group.startsWith("hang")) await new Promise((resolve) => setTimeout(resolve, 20_000));
    const { status, answer } = handle(batch);
    return status === 200 ? Response.json(answer) : new Response("scripted failure", { status });
  }

  async deliver(batch) {
    const { status, answer } = handle(batch);
    if (status !== 200) throw new Error(`scripted failure ${status}`);
    return answer;
  }
}
