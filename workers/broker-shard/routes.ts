/**
 * Broker HTTP API: send, pull (long polling, held here in the Worker: cluster/long-polls.ts), message lookup, queue stats and consume
 * offsets for one queue, mounted at /brokers/:broker/topics/:topic/queues/:queueId.
 */
import { Hono, type Context } from "hono";
import { MQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import type { PullResultWire } from "../../protocol/message.js";
import { checkGroupName } from "../../protocol/names.js";
import { CommitOffsetsSchema, SendRequestSchema, TransactionDecisionSchema } from "../../protocol/schemas.js";
import { buildFilter } from "../../protocol/message-filter.js";
import type { MemberFence } from "../../protocol/consumer.js";
import { readConfig } from "../../cluster/config.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson, uintParam } from "../shared/validate.js";
import { authorizeBody } from "../auth/body-permission.js";
import type { HalfState } from "../../protocol/transaction.js";
import { toMessageExt, toStoredMessages } from "./messages.js";
import { toFramedMessageExt } from "../../protocol/message-ext.js";
import { encodeFramed } from "../../protocol/framed-messages.js";
import { batchAnswer } from "../shared/batch-answer.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { routedQueueStub, type QueueStub } from "../../cluster/stubs.js";
import { holdPull } from "../../cluster/long-polls.js";
import type { PullRequest } from "../../durable-objects/queue.js";
import { memberFor, onMember } from "./members.js";
import { resolveQueue, type Access } from "./resolve-queue.js";
import { checkSendRequest, storeMessages } from "./send.js";
import { suggestBrokerId } from "../../cluster/slave-read.js";
import { SEND_CHANNEL_SEGMENT } from "../../protocol/send-channel.js";
import { PULL_CHANNEL_SEGMENT } from "../../protocol/pull-channel.js";
import { CHANNEL_GRANT_HEADER, CHANNEL_PATHS, type ChannelGrant, type ChannelKind } from "../../durable-objects/queue/channel-sockets.js";

type QueueContext = Context<AppEnv, "/:broker/topics/:topic/queues/:queueId/*">;

async function target(c: QueueContext, access: Access) {
  const resolved = await resolveQueue(c.env, { broker: c.req.param("broker"), topic: c.req.param("topic"), queueId: c.req.param("queueId") }, access);
  const { brokerName, topic, queueId } = resolved.mq;
  return { ...resolved, stub: routedQueueStub(c.env, brokerName, topic, queueId) };
}

/**
 * A send or pull channel to the queue's master (protocol/send-channel.ts, protocol/pull-channel.ts):
 * the middleware checked PUB or SUB on the topic; the queue is resolved as a send's or a pull's
 * is, once for the channel, and the object learns who opened it from a header only this Worker sets.
 */
async function openChannel(c: QueueContext, kind: ChannelKind): Promise<Response> {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new MQError("UPGRADE_REQUIRED", "a channel is opened with a WebSocket upgrade");
  const queue = await target(c, kind === "send" ? "write" : "read");
  // Reads of a broker whose master stopped registering go to a slave, over HTTP.
  if (!queue.masterAlive) throw new MQError("SERVICE_UNAVAILABLE", `the master of "${queue.mq.brokerName}" is not registering; pull over HTTP`);
  const grant: ChannelGrant = {
    account: c.get("account")?.accessKey ?? "",
    mq: queue.mq,
    bornHost: c.req.header("cf-connecting-ip") ?? "",
    // A send channel is as fresh as the Worker's route cache; a pull channel holds its rights as
    // long as an HTTP long poll holds them by default (its default wait).
    maxAgeMs: kind === "send" ? readConfig(c.env).routeCacheTtlMs : Limits.defaultPullWaitMs,
  };
  return queue.stub.fetch(`https://object${CHANNEL_PATHS[kind]}`, {
    headers: { Upgrade: "websocket", [CHANNEL_GRANT_HEADER]: encodeURIComponent(JSON.stringify(grant)) },
  });
}

function brokerIdParam(c: QueueContext): number {
  return uintParam(c.req.query("brokerId"), "brokerId", { fallback: 0, max: 64 });
}

const Q = "/:broker/topics/:topic/queues/:queueId";

export const brokerRoutes = new Hono<AppEnv>()
  .post(`${Q}/messages`, async (c) => {
    const request = await readJson(c, SendRequestSchema);
    authorizeBody(c, { producerGroup: request.transaction?.producerGroup });
    const oneway = c.req.query("oneway") === "true";
    const { mq, stub } = await target(c, "write");
    const now = Date.now();
    const messages = toStoredMessages(request.messages, now, c.req.header("cf-connecting-ip") ?? "");
    const config = readConfig(c.env);
    checkSendRequest(config, now, request, messages); // before a oneway 202, not after
    const stored = storeMessages({ mq, stub, config, now }, request, messages);
    if (oneway) {
      // Oneway: answer before the write is durable; a failure is logged, never reported.
      c.executionCtx.waitUntil(stored.catch((e: unknown) => console.warn(`oneway send to ${stub.name ?? "queue"} failed: ${String(e)}`)));
      return c.json({ accepted: true, msgIds: messages.map((m) => m.msgId) }, 202);
    }
    return c.json(await stored);
  })
  .get(`${Q}/${SEND_CHANNEL_SEGMENT}`, (c) => openChannel(c, "send"))
  .get(`${Q}/${PULL_CHANNEL_SEGMENT}`, (c) => openChannel(c, "pull"))
  .get(`${Q}/messages`, async (c) => {
    const offset = uintParam(c.req.query("offset"), "offset", { code: "OFFSET_ILLEGAL" });
    const maxNums = uintParam(c.req.query("maxNums"), "maxNums", { fallback: Limits.maxPullNums, max: Limits.maxPullNums });
    if (maxNums === 0) throw new MQError("VALIDATION_FAILED", "maxNums must be at least 1");
    const maxWaitMs = uintParam(c.req.query("maxWaitMs"), "maxWaitMs", {
      fallback: Limits.defaultPullWaitMs,
      max: Limits.maxPullWaitMs,
    });
    const expression = c.req.query("expression") ?? "*";
    if (expression.length > Limits.maxExpressionLength)
      throw new MQError("VALIDATION_FAILED", `expression is longer than ${Limits.maxExpressionLength} characters`);
    const expressionType = c.req.query("expressionType") ?? "TAG";
    if (expressionType !== "TAG" && expressionType !== "SQL92") throw new MQError("VALIDATION_FAILED", "expressionType must be TAG or SQL92");
    buildFilter(expressionType, expression); // a bad expression is a 400 with its position
    const member = memberOf(c.req.query("group"), c.req.query("clientId"), c.req.query("generation"));
    const queue = await target(c, "read");
    const { mq } = queue;
    const brokerId = memberFor(queue, brokerIdParam(c));
    // Parked places on a queue are shared fairly between accounts.
    const hold = { maxWaitMs, account: c.get("account")?.accessKey ?? "" };
    const request: PullRequest = { offset, maxNums, expression, expressionType, ...member };
    const { value: outcome, brokerId: servedBy } = await onMember(c.env, queue, brokerId, {
      master: (s) => holdPull(s, request, hold),
      replica: (s) => holdPull(s, { ...request, replica: true }, hold),
    });
    const head = {
      pullStatus: outcome.pullStatus,
      nextBeginOffset: outcome.nextBeginOffset,
      minOffset: outcome.minOffset,
      maxOffset: outcome.maxOffset,
      suggestWhichBrokerId: suggestBrokerId(readConfig(c.env), servedBy, outcome),
      brokerId: servedBy,
    };
    return batchAnswer(c, {
      framed: () =>
        encodeFramed(
          { ...head, messages: outcome.entries.map((e) => toFramedMessageExt(mq, e)) },
          outcome.entries.map((e) => e.message.body),
        ),
      json: (): PullResultWire => ({ ...head, messages: outcome.entries.map((e) => toMessageExt(mq, e)) }),
    });
  })
  .get(`${Q}/messages/:offset`, async (c) => {
    const offset = uintParam(c.req.param("offset"), "offset", { code: "OFFSET_ILLEGAL" });
    const queue = await target(c, "read");
    const { mq } = queue;
    const entry = (await onMember(c.env, queue, memberFor(queue, 0), { master: (s) => s.getMessage(offset), replica: (s) => s.getMessage(offset) })).value;
    if (!entry) throw new MQError("MESSAGE_NOT_FOUND", `no message at offset ${offset} of ${mq.topic}/${mq.brokerName}/${mq.queueId}`);
    return c.json(toMessageExt(mq, entry));
  })
  .get(`${Q}/stats`, async (c) => {
    const brokerId = brokerIdParam(c);
    const queue = await target(c, "admin");
    if (brokerId > readConfig(c.env).slavesPerBroker) throw new MQError("BROKER_NOT_EXIST", `broker "${queue.mq.brokerName}" has no brokerId ${brokerId}`);
    return c.json((await onMember(c.env, queue, brokerId, { master: (s) => s.stats(), replica: (s) => s.stats() })).value);
  })
  .get(`${Q}/offsets/search`, async (c) => {
    const timestamp = uintParam(c.req.query("timestamp"), "timestamp");
    const queue = await target(c, "read");
    const search = (s: QueueStub) => s.searchOffset(timestamp);
    return c.json({ offset: (await onMember(c.env, queue, memberFor(queue, 0), { master: search, replica: search })).value });
  })
  .get(`${Q}/groups/:group/offset`, async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const queue = await target(c, "read");
    return c.json(
      (await onMember(c.env, queue, memberFor(queue, 0), { master: (s) => s.fetchOffset(group), replica: (s) => s.fetchReplicaOffset(group) })).value,
    );
  })
  .put(`${Q}/groups/:group/offset`, async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { offset, fence } = await readJson(c, CommitOffsetsSchema);
    const queue = await target(c, "read");
    // With the master unreachable the slave keeps the offset (unfenced: a slave has no owners);
    // the consumer's next commit to the master supersedes it.
    await onMember(c.env, queue, memberFor(queue, 0), {
      master: (s) => s.commitOffset(group, offset, fence),
      replica: (s) => s.commitReplicaOffset(group, offset),
    });
    return c.json({ offset });
  })
  .get(`${Q}/delayed`, async (c) => {
    const { stub } = await target(c, "admin");
    return c.json(await callRpc(() => stub.delayedStats()));
  })
  .post(`${Q}/transactions/:transactionId`, async (c) => {
    const transactionId = c.req.param("transactionId");
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(transactionId)) throw new MQError("TRANSACTION_NOT_FOUND", "malformed transaction id");
    const { producerGroup, decision } = await readJson(c, TransactionDecisionSchema);
    authorizeBody(c, { producerGroup });
    const { stub } = await target(c, "write-admin");
    return c.json(await callRpc(() => stub.endTransaction(transactionId, producerGroup, decision)));
  })
  .get(`${Q}/transactions`, async (c) => {
    const state = c.req.query("state");
    if (state !== undefined && !HALF_STATES.has(state)) throw new MQError("VALIDATION_FAILED", `state must be one of ${[...HALF_STATES].join(", ")}`);
    const limit = uintParam(c.req.query("limit"), "limit", { fallback: 100, max: 1000 });
    const { stub } = await target(c, "admin");
    return c.json({ transactions: await callRpc(() => stub.listTransactions(state as HalfState | undefined, limit)) });
  });

const HALF_STATES: ReadonlySet<string> = new Set(["PENDING", "COMMITTED", "ROLLED_BACK", "GIVEN_UP"]);

/** A pull from a group member names group, clientId and generation; all three or none. */
function memberOf(group: string | undefined, clientId: string | undefined, generation: string | undefined): { group?: string; fence?: MemberFence } {
  if (group === undefined && clientId === undefined && generation === undefined) return {};
  if (group === undefined || clientId === undefined || generation === undefined)
    throw new MQError("VALIDATION_FAILED", "group, clientId and generation go together");
  checkGroupName(group);
  if (clientId.length === 0 || clientId.length > 255) throw new MQError("VALIDATION_FAILED", "clientId is 1-255 characters");
  return { group, fence: { clientId, generation: uintParam(generation, "generation") } };
}
