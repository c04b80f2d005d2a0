/**
 * Receipt handles of SimpleConsumer (POP) receives: which message of which queue a receive
 * handed out, and which delivery of it (`nonce`, new on every receive and every change of
 * invisibility). Server and client share the format; a client treats it as opaque.
 *
 * A handle is dot-separated text, `2.<broker>.<topic>.<queueId>.<queueOffset>.<nonce>.<invisibleUntil>`
 * with the numbers in base 36 and any name character outside [A-Za-z0-9_-] written `~` and four
 * hex digits, so it is XML- and URL-safe (only unreserved URL characters) as the HTTP protocol
 * (docs/design/pop.md) needs. Every message a receive hands out gets one and every ack reads
 * one, so it is plain text rather than encoded JSON: writing and reading it costs a
 * microsecond, not the ten that base64url of JSON (version 1, still read) cost the queue's
 * one thread. It carries no secret: the group's SUB permission is the authority, the nonce
 * only tells one delivery from the next, so a stale handle changes nothing.
 */
import { base64UrlToBytes } from "./base64.js";
import { boundedMemo } from "./bounded-memo.js";
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

/** Version 1: base64url of a JSON array; read for handles given out before version 2. */
const JSON_VERSION = 1;
const TEXT_PREFIX = "2.";
const decoder = new TextDecoder();
const PLAIN_NAME = /^[A-Za-z0-9_-]+$/;
const PLAIN_NUMBER = /^[0-9a-z]{1,11}$/;

export function encodeReceiptHandle(h: ReceiptHandle): string {
  return receiptHandlesOf(h)(h.queueOffset, h.nonce, h.invisibleUntil);
}

/**
 * The handles of one queue's messages: the queue's part (broker, topic, queue id) is written
 * once, and each message adds its numbers, as a receive writes 32 of one queue at a time.
 */
export function receiptHandlesOf(q: {
  brokerName: string;
  topic: string;
  queueId: number;
}): (queueOffset: number, nonce: number, invisibleUntil: number) => string {
  const queuePart = queuePartOf(q);
  return (queueOffset, nonce, invisibleUntil) => `${queuePart}${queueOffset.toString(36)}.${nonce.toString(36)}.${invisibleUntil.toString(36)}`;
}

function queuePartOf(q: { brokerName: string; topic: string; queueId: number }): string {
  return `${TEXT_PREFIX}${escapeName(q.brokerName)}.${escapeName(q.topic)}.${q.queueId.toString(36)}.`;
}

function escapeName(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  let out = "";
  // By UTF-16 code unit, so a character outside the BMP is two escapes that decode back to it.
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    out += PLAIN_NAME.test(c) ? c : `~${name.charCodeAt(i).toString(16).padStart(4, "0")}`;
  }
  return out;
}

function unescapeName(text: string): string | null {
  if (PLAIN_NAME.test(text)) return text;
  if (!/^(?:[A-Za-z0-9_-]|~[0-9a-f]{4})+$/.test(text)) return null;
  return text.replace(/~([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** A non-negative safe integer written in base 36, or null. */
function readNumber(text: string): number | null {
  if (!PLAIN_NUMBER.test(text)) return null;
  const n = Number.parseInt(text, 36);
  return Number.isSafeInteger(n) ? n : null;
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

/** The handle, or null when `text` is not one that encodeReceiptHandle (or version 1) wrote. */
export function decodeReceiptHandle(text: string): ReceiptHandle | null {
  if (!text.startsWith(TEXT_PREFIX)) return decodeJsonHandle(text);
  if (text.length > Limits.maxReceiptHandleLength) return null;
  // The three numbers of the message after the last three dots; the queue's part before them.
  const third = text.lastIndexOf(".");
  const second = text.lastIndexOf(".", third - 1);
  const first = text.lastIndexOf(".", second - 1);
  if (first < TEXT_PREFIX.length) return null;
  const queue = readQueuePart(text.slice(0, first + 1));
  const queueOffset = readNumber(text.slice(first + 1, second));
  const nonce = readNumber(text.slice(second + 1, third));
  const invisibleUntil = readNumber(text.slice(third + 1));
  if (queue === null || queueOffset === null || nonce === null || invisibleUntil === null) return null;
  return { brokerName: queue.brokerName, topic: queue.topic, queueId: queue.queueId, queueOffset, nonce, invisibleUntil };
}

/** A queue's part of a handle, read once for the handles of a batch. */
const readQueuePart = boundedMemo(256, (part): { brokerName: string; topic: string; queueId: number } | null => {
  const fields = part.slice(TEXT_PREFIX.length, -1).split(".");
  if (fields.length !== 3) return null;
  const brokerName = unescapeName(fields[0]!);
  const topic = unescapeName(fields[1]!);
  const queueId = readNumber(fields[2]!);
  return brokerName === null || topic === null || queueId === null ? null : { brokerName, topic, queueId };
});

function decodeJsonHandle(text: string): ReceiptHandle | null {
  const parsed = decodeHandleFields(text);
  if (!parsed || parsed.length !== 7 || parsed[0] !== JSON_VERSION) return null;
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
