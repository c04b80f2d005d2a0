/**
 * offsetMsgId: the broker-side id of a stored message. RocketMQ packs store host and commit-log
 * offset; here it packs broker, topic, queue and queue offset, so a lookup by it goes straight
 * to the one queue object that holds the message. URL-safe base64 of:
 * u8 version 2 | u8 broker length | broker | u16 topic length | topic | u16 queueId | f64 offset.
 * (Version 1 had a one-byte topic length, too short for %RETRY%/%DLQ% topics of long group
 * names; it is still read.)
 */
import { base64UrlToBytes, bytesToBase64Url } from "./base64.js";
import { boundedMemo } from "./bounded-memo.js";

const VERSION = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface OffsetMsgIdParts {
  brokerName: string;
  topic: string;
  queueId: number;
  queueOffset: number;
}

export function encodeOffsetMsgId(p: OffsetMsgIdParts): string {
  const head = headOf(`${p.brokerName}\n${p.topic}`);
  const out = new Uint8Array(head.length + 2 + 8);
  out.set(head);
  const view = new DataView(out.buffer);
  view.setUint16(head.length, p.queueId);
  view.setFloat64(head.length + 2, p.queueOffset);
  return bytesToBase64Url(out);
}

/**
 * The bytes before queueId (version, broker, topic), per broker and topic: every message of a
 * pull or a receive shares them, so they are encoded once, not once per message.
 */
const headOf = boundedMemo(1000, (key): Uint8Array => {
  // Broker names have no line break (isValidBrokerName); the topic is the rest.
  const at = key.indexOf("\n");
  const brokerName = key.slice(0, at);
  const topic = key.slice(at + 1);
  const broker = encoder.encode(brokerName);
  const topicBytes = encoder.encode(topic);
  const head = new Uint8Array(1 + 1 + broker.length + 2 + topicBytes.length);
  head[0] = VERSION;
  head[1] = broker.length;
  head.set(broker, 2);
  new DataView(head.buffer).setUint16(2 + broker.length, topicBytes.length);
  head.set(topicBytes, 2 + broker.length + 2);
  return head;
});

/** Returns undefined for anything that is not an offsetMsgId this broker produced. */
export function decodeOffsetMsgId(id: string): OffsetMsgIdParts | undefined {
  if (id.length === 0 || id.length > 400) return undefined;
  const bytes = base64UrlToBytes(id);
  const version = bytes?.[0];
  if (!bytes || bytes.length < 14 || (version !== 1 && version !== 2)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 1;
  const brokerLength = bytes[pos++]!;
  const lengthBytes = version === 1 ? 1 : 2;
  if (pos + brokerLength + lengthBytes > bytes.length) return undefined;
  const brokerName = decoder.decode(bytes.subarray(pos, pos + brokerLength));
  pos += brokerLength;
  const topicLength = version === 1 ? bytes[pos]! : view.getUint16(pos);
  pos += lengthBytes;
  if (pos + topicLength + 10 !== bytes.length) return undefined;
  const topic = decoder.decode(bytes.subarray(pos, pos + topicLength));
  pos += topicLength;
  const queueId = view.getUint16(pos);
  const queueOffset = view.getFloat64(pos + 2);
  if (!Number.isSafeInteger(queueOffset) || queueOffset < 0) return undefined;
  return { brokerName, topic, queueId, queueOffset };
}
