/**
 * The work behind each call of the `FlareMQ` entrypoint (entrypoint.ts), for a binding's
 * account. Arguments come from another Worker by structured clone, so they are untrusted:
 * each is validated by the HTTP API's schema (a refusal is the same code as over HTTP), the
 * account's right is checked on every topic and group a call names, and the work is done by
 * the code behind the HTTP routes (broker-shard/topic-send.ts, groups/pop-calls.ts).
 */
import { base64ToBytes, bytesToBase64 } from "../../protocol/base64.js";
import { MQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import type { SendResult } from "../../protocol/message.js";
import { checkGroupName } from "../../protocol/names.js";
import { PopAckSchema, PopChangeInvisibleSchema, PopReceiveSchema, SendRequestSchema } from "../../protocol/schemas.js";
import type { WorkerAckResult, WorkerReceivedMessage } from "../../protocol/worker-rpc.js";
import type { Env } from "../../cluster/env.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import { sendToTopic } from "../broker-shard/topic-send.js";
import { popAck, popChangeInvisible, popReceive } from "../groups/pop-calls.js";
import { withPollSlot } from "../shared/rate-limit.js";
import { parseWith } from "../shared/validate.js";
import { operationOf, requireRights } from "./binding-account.js";

const SEND = operationOf("POST", "/brokers/:broker/topics/:topic/queues/:queueId/messages");
const RECEIVE = operationOf("POST", "/groups/:group/receive");
const ACK = operationOf("POST", "/groups/:group/ack");
const CHANGE_INVISIBLE = operationOf("POST", "/groups/:group/change-invisible");

/** What flaremq stores as a message's bornHost when it came through a service binding. */
const BORN_HOST = "worker-rpc";

/** The message shape of the HTTP API (MessageIn) for one RPC message, and its topic. */
function toWire(m: unknown, at: string): { topic: string; wire: Record<string, unknown> } {
  if (typeof m !== "object" || m === null || Array.isArray(m)) throw new MQError("VALIDATION_FAILED", `${at}: expected a message object`);
  const { topic, body, ...rest } = m as Record<string, unknown>;
  if (typeof topic !== "string") throw new MQError("VALIDATION_FAILED", `${at}.topic: expected a string`);
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : body;
  const wireBody = bytes instanceof Uint8Array ? { body: bytesToBase64(bytes), bodyEncoding: "base64" } : { body, bodyEncoding: "utf8" };
  return { topic, wire: { ...rest, ...wireBody } };
}

/** Sends a message or a batch of one topic; `shardingKey` makes it an ordered send of that message group. */
export async function sendMessages(env: Env, account: StoredAccount, input: unknown, shardingKey?: unknown): Promise<SendResult> {
  if (!Array.isArray(input) || input.length === 0) throw new MQError("VALIDATION_FAILED", "messages: expected a non-empty array");
  if (input.length > Limits.maxBatchCount) throw new MQError("VALIDATION_FAILED", `a batch holds at most ${Limits.maxBatchCount} messages`);
  const converted = input.map((m, i) => toWire(m, input.length > 1 ? `messages.${i}` : "message"));
  const topic = converted[0]!.topic;
  if (converted.some((c) => c.topic !== topic)) throw new MQError("MESSAGE_ILLEGAL", "every message of a batch must have the same topic");
  requireRights(account, SEND, { topic });
  const request = parseWith(SendRequestSchema, { messages: converted.map((c) => c.wire) });
  if (shardingKey === undefined) return sendToTopic(env, topic, request, { bornHost: BORN_HOST });
  if (typeof shardingKey !== "string" || shardingKey.length === 0 || shardingKey.length > Limits.maxTagLength)
    throw new MQError("VALIDATION_FAILED", `shardingKey: expected 1-${Limits.maxTagLength} characters`);
  // The key is also the message group an orderly receive holds back (durable-objects/queue/pop-state.ts);
  // its size and characters are checked with the other properties when the message is stored.
  for (const m of request.messages) m.properties = { ...m.properties, __SHARDINGKEY: shardingKey };
  return sendToTopic(env, topic, request, { bornHost: BORN_HOST, shardingKey });
}

function groupArg(group: unknown): string {
  if (typeof group !== "string") throw new MQError("VALIDATION_FAILED", "group: expected a string");
  checkGroupName(group);
  return group;
}

/** A SimpleConsumer receive for the group the request names. */
export async function receiveMessages(env: Env, account: StoredAccount, input: unknown): Promise<WorkerReceivedMessage[]> {
  if (typeof input !== "object" || input === null) throw new MQError("VALIDATION_FAILED", "expected a receive request object");
  const { group: rawGroup, ...rest } = input as Record<string, unknown>;
  const group = groupArg(rawGroup);
  requireRights(account, RECEIVE, { group });
  const req = parseWith(PopReceiveSchema, rest);
  requireRights(account, RECEIVE, { group, topic: req.topic });
  const received = await withPollSlot(account.accessKey, () => popReceive(env, group, req, account.accessKey));
  return received.map((m) => ({ ...m, body: base64ToBytes(m.body) ?? new Uint8Array() }));
}

export async function ackMessages(env: Env, account: StoredAccount, rawGroup: unknown, receiptHandles: unknown): Promise<WorkerAckResult[]> {
  const group = groupArg(rawGroup);
  requireRights(account, ACK, { group });
  const req = parseWith(PopAckSchema, { receiptHandles });
  return (await popAck(env, group, req.receiptHandles, (topic) => requireRights(account, ACK, { group, topic }))).results;
}

export async function changeInvisibleDuration(
  env: Env,
  account: StoredAccount,
  rawGroup: unknown,
  receiptHandle: unknown,
  invisibleDurationMs: unknown,
): Promise<{ receiptHandle: string; invisibleUntil: number }> {
  const group = groupArg(rawGroup);
  requireRights(account, CHANGE_INVISIBLE, { group });
  const req = parseWith(PopChangeInvisibleSchema, { receiptHandle, invisibleDurationMs });
  return popChangeInvisible(env, group, req.receiptHandle, req.invisibleDurationMs, (topic) => requireRights(account, CHANGE_INVISIBLE, { group, topic }));
}
