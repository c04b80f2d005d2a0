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
  head.view.setUint16(head.carried, p.queueId);
  head.view.setFloat64(head.carried + 2, p.queueOffset);
  return head.prefix + base64UrlOf(head.tail);
}

/**
 * What every id of one broker and topic shares, made once: every message of a pull, a receive
 * or a send answer carries an id, and encoding the whole id each time was an eighth of the
 * Worker's CPU per message draining a backlog. The head (version, broker, topic) is encoded in
 * whole 3-byte groups once (`prefix`); its last `carried` (0-2) bytes are kept in `tail`, in
 * front of queueId and offset, which are written there per id and encoded alone. The result is
 * the same text as encoding the whole id at once.
 */
interface Head {
  prefix: string;
  carried: number;
  tail: Uint8Array;
  view: DataView;
}

const headOf = boundedMemo(1000, (key): Head => {
  // Broker names have no line break (isValidBrokerName); the topic is the rest.
  const at = key.indexOf("\n");
  const broker = encoder.encode(key.slice(0, at));
  const topicBytes = encoder.encode(key.slice(at + 1));
  const head = new Uint8Array(1 + 1 + broker.length + 2 + topicBytes.length);
  head[0] = VERSION;
  head[1] = broker.length;
  head.set(broker, 2);
  new DataView(head.buffer).setUint16(2 + broker.length, topicBytes.length);
  head.set(topicBytes, 2 + broker.length + 2);
  const whole = head.length - (head.length % 3);
  const carried = head.length - whole;
  const tail = new Uint8Array(carried + 2 + 8);
  tail.set(head.subarray(whole));
  return { prefix: bytesToBase64Url(head.subarray(0, whole)), carried, tail, view: new DataView(tail.buffer) };
});

const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url of a few bytes (an id's tail), without the codec's per-call overhead. */
function base64UrlOf(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += URL_ALPHABET[n >>> 18]! + URL_ALPHABET[(n >>> 12) & 63]! + URL_ALPHABET[(n >>> 6) & 63]! + URL_ALPHABET[n & 63]!;
  }
  const left = bytes.length - i;
  if (left === 1) {
    const n = bytes[i]! << 16;
    out += URL_ALPHABET[n >>> 18]! + URL_ALPHABET[(n >>> 12) & 63]!;
  } else if (left === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += URL_ALPHABET[n >>> 18]! + URL_ALPHABET[(n >>> 12) & 63]! + URL_ALPHABET[(n >>> 6) & 63]!;
  }
  return out;
}

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
