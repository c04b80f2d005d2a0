/**
 * The multi-queue send: POST /topics/:topic/messages carries independent messages for several
 * queues of one topic, so a producer spread over many queues needs one request, not one per
 * queue. The Worker calls the queue objects in parallel, one call per queue (whose group commit
 * writes that queue's messages in one row); every message is stored or refused on its own and
 * answered with its own SendResult or error code. Not an atomic batch: that is `send([...])` on
 * the per-queue route. The topic is in the path, so the PUB check the middleware makes there is
 * the check for every message: no message can name another topic.
 */
import { Hono } from "hono";
import { base64DecodedLength } from "../../protocol/base64.js";
import { Limits } from "../../protocol/limits.js";
import type { MultiSendItem, MultiSendResponse } from "../../protocol/multi-send.js";
import { checkUserTopic } from "../../protocol/names.js";
import { bodiesTooLarge } from "../../protocol/size-refusals.js";
import { MultiSendRequestSchema, type MessageIn, type MultiSendRequest } from "../../protocol/schemas.js";
import type { StoredMessage } from "../../protocol/message.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { fromRpcError } from "../../cluster/rpc-errors.js";
import { routedQueueStub } from "../../cluster/stubs.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson } from "../shared/validate.js";
import { reservedNames } from "../namesrv/routes.js";
import { toStoredMessages } from "./messages.js";
import { resolveQueue } from "./resolve-queue.js";
import { sendResult } from "../../protocol/send-result.js";
import { recordSends } from "../metrics/request-metrics.js";

const encoder = new TextEncoder();

type QueueEntry = MultiSendRequest["queues"][number];

function refusal(e: unknown): MultiSendItem {
  const error = fromRpcError(e);
  return { ok: false, code: error.code, message: error.message };
}

/** Body bytes of the whole request, counted before anything is stored (a batch's cap). */
function totalBodyBytes(request: MultiSendRequest): number {
  let total = 0;
  for (const q of request.queues) for (const m of q.messages) total += m.bodyEncoding === "utf8" ? encoder.encode(m.body).length : base64DecodedLength(m.body);
  return total;
}

/** One message checked on its own: a stored form, or the refusal that is its answer. */
function prepare(m: MessageIn, now: number, bornHost: string): StoredMessage | MultiSendItem {
  if (m.delayTimeLevel || m.deliverTimeMs !== undefined)
    return { ok: false, code: "BATCH_DELAY_NOT_SUPPORTED", message: "a delayed message is sent on the per-queue route, on its own" };
  try {
    return toStoredMessages([m], now, bornHost)[0]!;
  } catch (e) {
    return refusal(e);
  }
}

async function sendToQueue(env: Env, topic: string, entry: QueueEntry, now: number, bornHost: string): Promise<MultiSendItem[]> {
  let mq;
  try {
    ({ mq } = await resolveQueue(env, { broker: entry.brokerName, topic, queueId: String(entry.queueId) }, "write"));
  } catch (e) {
    const error = refusal(e);
    return entry.messages.map(() => error);
  }
  const prepared = entry.messages.map((m) => prepare(m, now, bornHost));
  const stored = prepared.filter((p): p is StoredMessage => "body" in p);
  if (stored.length === 0) return prepared as MultiSendItem[];
  let outcomes;
  try {
    outcomes = await routedQueueStub(env, mq.brokerName, topic, mq.queueId).appendEach(stored, { mq });
  } catch (e) {
    const error = refusal(e);
    return prepared.map((p) => ("body" in p ? error : p));
  }
  let next = 0;
  return prepared.map((p): MultiSendItem => {
    if (!("body" in p)) return p;
    const outcome = outcomes[next++]!;
    if (!outcome.ok) return { ok: false, code: outcome.code, message: outcome.message };
    return { ok: true, result: sendResult(mq, [p], outcome.queueOffset, outcome.sendStatus ?? "SEND_OK") };
  });
}

export const multiSendRoutes = new Hono<AppEnv>().post("/:topic/messages", async (c) => {
  const topic = c.req.param("topic");
  const request = await readJson(c, MultiSendRequestSchema);
  // Refusals of the request as a whole come first: then nothing is stored.
  checkUserTopic(topic, reservedNames(readConfig(c.env)));
  const total = totalBodyBytes(request);
  if (total > Limits.maxBatchBodyBytes) throw bodiesTooLarge(total);
  const now = Date.now();
  const bornHost = c.req.header("cf-connecting-ip") ?? "";
  const first = request.queues[0]!;
  // Resolve one queue first, so a topic this send auto-creates is created once, not once per
  // queue; the others then find it in the route cache. Its refusal is answered per message below.
  await resolveQueue(c.env, { broker: first.brokerName, topic, queueId: String(first.queueId) }, "write").catch(() => undefined);
  const perQueue = await Promise.all(request.queues.map((entry) => sendToQueue(c.env, topic, entry, now, bornHost)));
  const response: MultiSendResponse = { results: perQueue.flat() };
  // Counted for GET /metrics by SendStatus, as the single-queue send counts.
  for (const item of response.results) if (item.ok) recordSends(item.result.sendStatus, 1);
  return c.json(response);
});
