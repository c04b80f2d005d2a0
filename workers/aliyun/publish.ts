/**
 * PublishMessage of the Alibaba Cloud HTTP protocol (POST /topics/{topic}/messages): the
 * `<Message>` body becomes one flaremq message sent by topic (broker-shard/topic-send.ts, the
 * send path of the native API and of Workers RPC), so every check, the topic auto-create and
 * the storage are the native send's. The protocol's properties choose the kind of send:
 * __SHARDINGKEY an ordered send to the key's queue, __STARTDELIVERTIME a timer message,
 * __TransCheckT a transaction half message whose checks go to the topic's transaction group
 * (transaction.ts) and whose answer carries a handle to commit or roll back with.
 */
import { isMQError } from "../../protocol/errors.js";
import type { MessageIn, SendRequest } from "../../protocol/schemas.js";
import { TransactionProps } from "../../protocol/transaction.js";
import type { Env } from "../../cluster/env.js";
import { sendToTopic } from "../broker-shard/topic-send.js";
import { AliyunError } from "./errors.js";
import { encodeHalfHandle } from "./half-handle.js";
import { bodyMd5 } from "./message-xml.js";
import { AliyunProps, parseProperties } from "./properties.js";
import { transactionGroup } from "./transaction.js";
import { childText, fieldsDocument, type XmlElement } from "./xml.js";

/** __TransCheckT bounds, in seconds (the protocol's 10–300). */
export const TRANS_CHECK_SECONDS = { min: 10, max: 300 } as const;

/** What bornHost a message published through this door carries. */
const BORN_HOST = "aliyun-http";

export interface PublishInput {
  body: string;
  tag: string;
  properties: Record<string, string>;
}

/** The publish body's fields; InvalidArgument when the document is not a `<Message>` with a body. */
export function readPublish(root: XmlElement): PublishInput {
  if (root.name !== "Message") throw new AliyunError("InvalidArgument", `expected a <Message> document, got <${root.name}>`);
  const body = childText(root, "MessageBody");
  if (body === undefined) throw new AliyunError("InvalidArgument", "MessageBody is required.");
  const propertiesText = childText(root, "Properties") ?? "";
  const properties = parseProperties(propertiesText);
  if (!properties) throw new AliyunError("InvalidArgument", "Properties must be key:value pairs joined by |, without ' \" & < > | : in keys or values.");
  return { body, tag: childText(root, "MessageTag") ?? "", properties };
}

function wholeNumber(text: string, name: string): number {
  if (!/^\d{1,16}$/.test(text)) throw new AliyunError("InvalidArgument", `${name} must be a whole number, got "${text}".`);
  return Number(text);
}

/** The native send request for a publish, and how to send it. */
export function toSend(input: PublishInput, topic: string, now: number): { request: SendRequest; shardingKey?: string; transCheckSeconds?: number } {
  const { KEYS: keysText, ...properties } = input.properties;
  const message: MessageIn = {
    body: input.body,
    bodyEncoding: "utf8",
    properties,
    ...(input.tag === "" ? {} : { tags: input.tag }),
    ...(keysText === undefined ? {} : { keys: keysText.split(" ").filter((k) => k !== "") }),
  };
  const request: SendRequest = { messages: [message] };
  const transText = properties[AliyunProps.TRANS_CHECK_T];
  if (transText !== undefined) {
    const seconds = wholeNumber(transText, AliyunProps.TRANS_CHECK_T);
    if (seconds < TRANS_CHECK_SECONDS.min || seconds > TRANS_CHECK_SECONDS.max)
      throw new AliyunError(
        "InvalidArgument",
        `The value of ${AliyunProps.TRANS_CHECK_T} should between ${TRANS_CHECK_SECONDS.min} and ${TRANS_CHECK_SECONDS.max} seconds.`,
      );
    message.properties = { ...properties, [TransactionProps.CHECK_IMMUNITY_TIME_IN_SECONDS]: String(seconds) };
    request.transaction = { producerGroup: transactionGroup(topic) };
    return { request, transCheckSeconds: seconds };
  }
  const startText = properties[AliyunProps.START_DELIVER_TIME];
  if (startText !== undefined) {
    const at = wholeNumber(startText, AliyunProps.START_DELIVER_TIME);
    if (at > now) message.deliverTimeMs = at;
  }
  const shardingKey = properties[AliyunProps.SHARDING_KEY];
  return shardingKey === undefined ? { request } : { request, shardingKey };
}

/** Publishes; answers the `<Message>` document of a 201. */
export async function publish(env: Env, topic: string, input: PublishInput, now = Date.now()): Promise<string> {
  const { request, shardingKey, transCheckSeconds } = toSend(input, topic, now);
  let result;
  try {
    result = await sendToTopic(env, topic, request, shardingKey === undefined ? { bornHost: BORN_HOST } : { bornHost: BORN_HOST, shardingKey });
  } catch (e) {
    // Names flaremq's checks use for what the protocol calls properties.
    if (isMQError(e) && e.code === "DELIVER_TIME_ILLEGAL") throw new AliyunError("InvalidArgument", `${AliyunProps.START_DELIVER_TIME}: ${e.message}`);
    throw e;
  }
  const handle =
    transCheckSeconds === undefined || result.transactionId === undefined
      ? undefined
      : encodeHalfHandle({ ...result.messageQueue, transactionId: result.transactionId, validUntil: now + transCheckSeconds * 1000 });
  return fieldsDocument("Message", [
    ["MessageId", result.msgId],
    ["MessageBodyMD5", bodyMd5(input.body)],
    ["ReceiptHandle", handle],
  ]);
}
