/** Consumer Worker: receives orders from flaremq and acks them, by RPC, on a cron trigger and on POST /consume. */
import { mqErrorFromRpc, type FlareMQService, type WorkerReceivedMessage } from "../../../protocol/worker-rpc.js";

interface Env {
  MQ: FlareMQService;
  TOPIC: string;
  GROUP: string;
  INVISIBLE_DURATION_MS: string;
  MAX_BATCHES_PER_RUN: string;
}

/** What one run did: each order handled (and acked), and the messages that failed (left to come back). */
interface RunReport {
  handled: { msgId: string; orderId: string; reconsumeTimes: number }[];
  failed: { msgId: string; error: string }[];
  /** Acks whose handle had expired (another receiver may get the order again): the handler ran too long. */
  ackFailures: number;
}

const decoder = new TextDecoder();

/** The business logic: here it only reads the order; a failure (throw) leaves the message to be received again. */
function handleOrder(message: WorkerReceivedMessage): string {
  const order = JSON.parse(decoder.decode(message.body)) as { id?: unknown };
  if (typeof order.id !== "string") throw new Error("an order without an id");
  console.log(`order ${order.id} (${message.tags}), delivery ${message.reconsumeTimes + 1}`);
  return order.id;
}

/** Receives and acks until the topic has nothing visible for the group, or MAX_BATCHES_PER_RUN receives. */
async function consume(env: Env): Promise<RunReport> {
  const report: RunReport = { handled: [], failed: [], ackFailures: 0 };
  for (let batch = 0; batch < Number(env.MAX_BATCHES_PER_RUN); batch++) {
    const messages = await env.MQ.receive({
      group: env.GROUP,
      topic: env.TOPIC,
      maxMessageNum: 32,
      invisibleDurationMs: Number(env.INVISIBLE_DURATION_MS),
      maxWaitMs: 0, // a run drains what is there; the next run comes with the next cron tick
    });
    if (messages.length === 0) break;
    const done: WorkerReceivedMessage[] = [];
    for (const m of messages) {
      try {
        report.handled.push({ msgId: m.msgId, orderId: handleOrder(m), reconsumeTimes: m.reconsumeTimes });
        done.push(m);
      } catch (e) {
        report.failed.push({ msgId: m.msgId, error: String(e) });
      }
    }
    if (done.length === 0) continue;
    // One ack call for the whole batch: one row written per queue, whatever the count.
    const results = await env.MQ.ack(
      env.GROUP,
      done.map((m) => m.receiptHandle),
    );
    report.ackFailures += results.filter((r) => r.status !== "OK").length;
  }
  return report;
}

export default {
  async scheduled(_controller, env): Promise<void> {
    const report = await consume(env);
    console.log(`consumed ${report.handled.length} orders, ${report.failed.length} failed, ${report.ackFailures} acks too late`);
  },

  async fetch(request, env): Promise<Response> {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/consume")
      return Response.json({ code: "NOT_FOUND", message: "POST /consume runs one consume pass" }, { status: 404 });
    try {
      return Response.json(await consume(env));
    } catch (e) {
      // flaremq's refusals cross RPC with their code (ACCESS_DENIED, TOPIC_NOT_EXIST, ...).
      const error = mqErrorFromRpc(e);
      if (!error) throw e;
      return Response.json({ code: error.code, message: error.message }, { status: error.status });
    }
  },
} satisfies ExportedHandler<Env>;
