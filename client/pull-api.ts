/** The pull and offset calls every consumer makes, with the member fence when it has one. */
import type { ExpressionType, MemberFence } from "../protocol/consumer.js";
import type { MessageQueue, PullResultWire } from "../protocol/message.js";
import type { WithByteBodies } from "../protocol/framed-messages.js";
import { fromWireMessage, type MessageExt } from "./message.js";
import { brokerPath } from "./routes.js";
import { pathSegment, type Transport } from "./transport.js";
import { isMQError, MQError } from "../protocol/errors.js";
import type { QueueChannels } from "./queue-channels.js";
import type { PullStatus } from "../protocol/message.js";

export interface PullResult {
  pullStatus: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  msgFoundList: MessageExt[];
}

/**
 * Which member of a broker to pull each queue from next, as the last answer suggested
 * (RocketMQ's pullFromWhichNodeTable): 0 the master, >0 a slave. Kept per transport.
 */
const pullFromWhichNode = new WeakMap<Transport, Map<string, number>>();

function nodeTable(transport: Transport): Map<string, number> {
  let table = pullFromWhichNode.get(transport);
  if (!table) {
    table = new Map();
    pullFromWhichNode.set(transport, table);
  }
  return table;
}

/** Headroom over the long-poll hold before the client gives up on an answer. */
const PULL_TIMEOUT_MARGIN_MS = 10_000;

/** One pull, as every consumer makes it. */
export interface PullCall {
  offset: number;
  maxNums: number;
  expression: string;
  expressionType?: ExpressionType;
  maxWaitMs: number;
  group?: string;
  fence?: MemberFence;
  signal?: AbortSignal;
  /** Pull channels to the masters (client/queue-channels.ts): used when one is open for the queue. */
  channels?: QueueChannels | undefined;
}

export async function pullMessages(transport: Transport, mq: MessageQueue, req: PullCall): Promise<PullResult> {
  const query: Record<string, string | number | undefined> = {
    offset: req.offset,
    maxNums: req.maxNums,
    expression: req.expression,
    maxWaitMs: req.maxWaitMs,
  };
  if (req.expressionType && req.expressionType !== "TAG") query.expressionType = req.expressionType;
  const nodes = nodeTable(transport);
  const key = `${mq.brokerName}/${mq.topic}/${mq.queueId}`;
  const brokerId = nodes.get(key) ?? 0;
  if (brokerId > 0) query.brokerId = brokerId;
  if (req.group && req.fence) {
    query.group = req.group;
    query.clientId = req.fence.clientId;
    query.generation = req.fence.generation;
  }
  let wire: PullResultWire | WithByteBodies<PullResultWire> | undefined;
  try {
    if (brokerId === 0 && req.channels) wire = await pullOverChannel(req.channels, mq, req);
    wire ??= await transport.request<PullResultWire | WithByteBodies<PullResultWire>>(`${brokerPath(mq)}/messages`, {
      query,
      framed: true,
      timeoutMs: req.maxWaitMs + PULL_TIMEOUT_MARGIN_MS,
      ...(req.signal ? { signal: req.signal } : {}),
    });
  } catch (e) {
    nodes.delete(key); // after a failure, the master again
    throw e;
  }
  if ((wire.suggestWhichBrokerId ?? 0) > 0) nodes.set(key, wire.suggestWhichBrokerId!);
  else nodes.delete(key);
  return {
    pullStatus: wire.pullStatus,
    nextBeginOffset: wire.nextBeginOffset,
    minOffset: wire.minOffset,
    maxOffset: wire.maxOffset,
    msgFoundList: wire.messages.map((m) => fromWireMessage(m)),
  };
}

/**
 * The pull over the queue's pull channel, or undefined when it must go over HTTP (no channel
 * open now, or the channel ended or closed under it: a pull moves nothing, so it is simply made
 * again). The pull waits in the object while the channel is usable, then is cancelled, which
 * answers it with what it has.
 */
async function pullOverChannel(channels: QueueChannels, mq: MessageQueue, req: PullCall): Promise<WithByteBodies<PullResultWire> | undefined> {
  const channel = await channels.channelWhenOpen(mq);
  if (!channel) return undefined;
  if (req.signal?.aborted) throw new MQError("ABORTED", "the pull was aborted");
  const waitMs = Math.min(req.maxWaitMs, channel.usableForMs(Date.now()));
  const pull = {
    offset: req.offset,
    maxNums: req.maxNums,
    expression: req.expression,
    expressionType: req.expressionType ?? "TAG",
    maxWaitMs: waitMs,
    ...(req.group && req.fence ? { group: req.group, fence: { clientId: req.fence.clientId, generation: req.fence.generation } } : {}),
  };
  const { id, reply } = channel.request((frameId) => JSON.stringify({ id: frameId, pull }), waitMs + PULL_TIMEOUT_MARGIN_MS);
  const cancel = () => channel.notify(JSON.stringify({ cancel: id }));
  const timer = waitMs > 0 ? setTimeout(cancel, waitMs) : undefined;
  req.signal?.addEventListener("abort", cancel, { once: true });
  try {
    // The answer's head, its bodies decoded to bytes (a PullChannelAnswerHead with byte bodies).
    const answer = (await reply) as unknown as WithByteBodies<PullResultWire>;
    if (req.signal?.aborted) throw new MQError("ABORTED", "the pull was aborted");
    return answer;
  } catch (e) {
    if (isMQError(e) && (e.code === "CHANNEL_EXPIRED" || e.code === "NETWORK_ERROR") && !req.signal?.aborted) return undefined;
    throw e;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    req.signal?.removeEventListener("abort", cancel);
  }
}

export async function commitOffset(transport: Transport, group: string, mq: MessageQueue, offset: number, fence?: MemberFence): Promise<void> {
  await transport.request(`${brokerPath(mq)}/groups/${pathSegment(group)}/offset`, {
    method: "PUT",
    body: fence ? { offset, fence } : { offset },
  });
}

export async function fetchOffset(transport: Transport, group: string, mq: MessageQueue): Promise<number> {
  return (await transport.request<{ offset: number }>(`${brokerPath(mq)}/groups/${pathSegment(group)}/offset`)).offset;
}

export async function queueOffsets(transport: Transport, mq: MessageQueue): Promise<{ minOffset: number; maxOffset: number }> {
  return transport.request(`${brokerPath(mq)}/stats`);
}

export async function searchOffset(transport: Transport, mq: MessageQueue, timestamp: number): Promise<number> {
  return (await transport.request<{ offset: number }>(`${brokerPath(mq)}/offsets/search`, { query: { timestamp } })).offset;
}
