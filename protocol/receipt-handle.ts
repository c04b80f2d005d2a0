/**
 * Receipt handles of SimpleConsumer (POP) receives: which message of which queue a receive
 * handed out, and which delivery of it (`nonce`, new on every receive and every change of
 * invisibility). Server and client share the format; a client treats it as opaque.
 *
 * A handle is base64url of a small JSON array, so it is XML- and URL-safe as the HTTP protocol
 * (docs/design/pop.md) needs. It carries no secret: the group's SUB permission is the
 * authority, the nonce only tells one delivery from the next, so a stale handle changes nothing.
 */
import { base64UrlToBytes, bytesToBase64Url } from "./base64.js";
import { Limits } from "./limits.js";
import type { MessageExtWire } from "./message.js";

export interface ReceiptHandle {
  brokerName: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  /** The delivery: a later receive or change of the same message carries a larger one. */
  nonce: number;
  /** When the handle stops being valid (epoch ms): the message's invisible-until, HTTP's NextConsumeTime. */
  invisibleUntil: number;
}

const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeReceiptHandle(h: ReceiptHandle): string {
  const json = JSON.stringify([VERSION, h.brokerName, h.topic, h.queueId, h.queueOffset, h.nonce, h.invisibleUntil]);
  return bytesToBase64Url(encoder.encode(json));
}

/**
 * The JSON array a handle carries (base64url of JSON, at most Limits.maxReceiptHandleLength), or
 * null when `text` is not one; each kind of handle checks its own fields.
 */
export function decodeHandleFields(text: string): unknown[] | null {
  if (text.length === 0 || text.length > Limits.maxReceiptHandleLength || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const bytes = base64UrlToBytes(text);
  if (!bytes) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  return Array.isArray(parsed) ? (parsed as unknown[]) : null;
}

/** The handle, or null when `text` is not one this version wrote. */
export function decodeReceiptHandle(text: string): ReceiptHandle | null {
  const parsed = decodeHandleFields(text);
  if (!parsed || parsed.length !== 7 || parsed[0] !== VERSION) return null;
  const [, brokerName, topic, queueId, queueOffset, nonce, invisibleUntil] = parsed;
  if (typeof brokerName !== "string" || typeof topic !== "string") return null;
  const ints = [queueId, queueOffset, nonce, invisibleUntil];
  if (!ints.every((n) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0)) return null;
  return {
    brokerName,
    topic,
    queueId: queueId as number,
    queueOffset: queueOffset as number,
    nonce: nonce as number,
    invisibleUntil: invisibleUntil as number,
  };
}

/** A received message on the wire: the message, its handle, and the delivery's times. */
export interface ReceivedMessageWire extends MessageExtWire {
  receiptHandle: string;
  /** When the handle expires and, unless acked, the message may be received again (epoch ms). */
  invisibleUntil: number;
  /** The first delivery of this message to the group (epoch ms). */
  firstReceivedAt: number;
}

/** What happened to one handle of an ack. */
export type AckStatus = "OK" | "RECEIPT_HANDLE_EXPIRED" | "RECEIPT_HANDLE_INVALID";

export interface PopAckResultWire {
  results: { receiptHandle: string; status: AckStatus }[];
}
