/**
 * ConsumeMessage and ConsumeMessageOrderly of the Alibaba Cloud HTTP protocol (GET
 * /topics/{topic}/messages?consumer=...): a SimpleConsumer (POP) receive of the group
 * (groups/pop-calls.ts), invisible for ALIYUN_INVISIBLE_MS (ALIYUN_ORDERLY_INVISIBLE_MS with
 * `trans=order`, an orderly receive per __SHARDINGKEY) and without the retry ladder, so a
 * message not acked is visible again exactly at its NextConsumeTime, 288 times at most (then
 * it goes to %DLQ%<group>, groups/pop-dead-letters.ts). Nothing to hand out after
 * `waitseconds` is the protocol's 404 MessageNotExist.
 */
import { base64ToBytes } from "../../protocol/base64.js";
import type { ReceivedMessageWire } from "../../protocol/receipt-handle.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { popReceive } from "../groups/pop-calls.js";
import { withPollSlot } from "../shared/rate-limit.js";
import { AliyunError, AliyunMessages } from "./errors.js";
import { messageElement } from "./message-xml.js";
import { document } from "./xml.js";

/** Deliveries after the first before a message goes to %DLQ%<group> (the protocol's 288 retries, a day at 5 minutes). */
export const MAX_RETRIES = 288;

/** numOfMessages and waitseconds bounds (the protocol's 1–16 and 0–30 s). */
export const CONSUME_LIMITS = { maxMessages: 16, maxWaitSeconds: 30 } as const;

export interface ConsumeParams {
  numOfMessages: number;
  waitSeconds: number;
  /** A tag expression (`A||B`), or undefined for every message. */
  tagExpression?: string;
}

function intParam(text: string | null, name: string, min: number, max: number, fallback?: number): number {
  if ((text === null || text === "") && fallback !== undefined) return fallback;
  const n = text !== null && /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new AliyunError("InvalidArgument", `The value of ${name} should between ${min} and ${max}.`);
  return n;
}

/** numOfMessages, waitseconds and tag of a consume's query; InvalidArgument outside the protocol's bounds. */
export function readConsumeParams(query: URLSearchParams): ConsumeParams {
  const tag = query.get("tag") ?? "";
  return {
    numOfMessages: intParam(query.get("numOfMessages"), "numOfMessages", 1, CONSUME_LIMITS.maxMessages),
    waitSeconds: intParam(query.get("waitseconds"), "waitseconds", 0, CONSUME_LIMITS.maxWaitSeconds, 0),
    ...(tag === "" || tag === "*" ? {} : { tagExpression: tag }),
  };
}

const decoder = new TextDecoder();

/** The `<Messages>` document of a 200; MessageNotExist when nothing was received. */
export function messagesDocument(elements: readonly string[]): string {
  if (elements.length === 0) throw new AliyunError("MessageNotExist", AliyunMessages.MessageNotExist);
  return document("Messages", elements.join("\n"));
}

function toElement(m: ReceivedMessageWire): string {
  return messageElement({
    msgId: m.msgId,
    receiptHandle: m.receiptHandle,
    body: decoder.decode(base64ToBytes(m.body) ?? new Uint8Array()),
    publishTime: m.bornTimestamp,
    nextConsumeTime: m.invisibleUntil,
    firstConsumeTime: m.firstReceivedAt,
    consumedTimes: m.reconsumeTimes + 1,
    tag: m.tags,
    keys: m.keys,
    properties: m.properties,
  });
}

/** Receives for `group`; answers the `<Messages>` document. `accountKey` shares long-poll places per account. */
export async function consume(env: Env, topic: string, group: string, params: ConsumeParams, orderly: boolean, accountKey: string): Promise<string> {
  const config = readConfig(env);
  const received = await withPollSlot(accountKey, () =>
    popReceive(
      env,
      group,
      {
        topic,
        maxMessageNum: params.numOfMessages,
        invisibleDurationMs: orderly ? config.aliyunOrderlyInvisibleMs : config.aliyunInvisibleMs,
        maxWaitMs: params.waitSeconds * 1000,
        retryLadder: false,
        maxReconsumeTimes: MAX_RETRIES,
        ...(orderly ? { orderly: true } : {}),
        ...(params.tagExpression === undefined ? {} : { expressionType: "TAG" as const, expression: params.tagExpression }),
      },
      accountKey,
    ),
  );
  return messagesDocument(received.map(toElement));
}
