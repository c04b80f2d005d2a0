/**
 * offsetMsgId: the broker-side id of a stored message. RocketMQ packs store host and commit-log
 * offset; here it packs broker, topic, queue and queue offset, so a lookup by it goes straight
 * to the one queue object that holds the message. URL-safe base64 of:
 * u8 version | u8 broker length | broker | u8 topic length | topic | u16 queueId | f64 offset.
 */
import { base64UrlToBytes, bytesToBase64Url } from "./base64.js";

const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface OffsetMsgIdParts {
  brokerName: string;
  topic: string;
  queueId: number;
  queueOffset: number;
}

export function encodeOffsetMsgId(p: OffsetMsgIdParts): string {
  const broker = encoder.encode(p.brokerName);
  const topic = encoder.encode(p.topic);
  const out = new Uint8Array(1 + 1 + broker.length + 1 + topic.length + 2 + 8);
  const view = new DataView(out.buffer);
  let pos = 0;
  out[pos++] = VERSION;
  out[pos++] = broker.length;
  out.set(broker, pos);
  pos += broker.length;
  out[pos++] = topic.length;
  out.set(topic, pos);
  pos += topic.length;
  view.setUint16(pos, p.queueId);
  pos += 2;
  view.setFloat64(pos, p.queueOffset);
  return bytesToBase64Url(out);
}

/** Returns undefined for anything that is not an offsetMsgId this broker produced. */
export function decodeOffsetMsgId(id: string): OffsetMsgIdParts | undefined {
  if (id.length === 0 || id.length > 400) return undefined;
  const bytes = base64UrlToBytes(id);
  if (!bytes || bytes.length < 14 || bytes[0] !== VERSION) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 1;
  const brokerLength = bytes[pos++]!;
  if (pos + brokerLength + 1 > bytes.length) return undefined;
  const brokerName = decoder.decode(bytes.subarray(pos, pos + brokerLength));
  pos += brokerLength;
  const topicLength = bytes[pos++]!;
  if (pos + topicLength + 10 !== bytes.length) return undefined;
  const topic = decoder.decode(bytes.subarray(pos, pos + topicLength));
  pos += topicLength;
  const queueId = view.getUint16(pos);
  const queueOffset = view.getFloat64(pos + 2);
  if (!Number.isSafeInteger(queueOffset) || queueOffset < 0) return undefined;
  return { brokerName, topic, queueId, queueOffset };
}
