/**
 * Receipt handles of transaction half messages in the Alibaba Cloud HTTP protocol: what a
 * transactional publish answers and what a half-message consume (`trans=pop`) hands out, then
 * passed to commit or rollback. It names the half message (queue and transaction id) and when
 * it stops being valid (the publish's __TransCheckT, or the check's NextConsumeTime). Like the
 * POP handle (protocol/receipt-handle.ts) it is base64url of a JSON array, XML- and URL-safe,
 * and carries no secret: PUB on the topic and on the group is the authority to decide.
 */
import { base64UrlToBytes, bytesToBase64Url } from "../../protocol/base64.js";
import { Limits } from "../../protocol/limits.js";

export interface HalfHandle {
  brokerName: string;
  topic: string;
  queueId: number;
  transactionId: string;
  /** Epoch ms after which a decision with this handle is refused as MessageNotExist. */
  validUntil: number;
}

/** First element of the array: tells a half handle from a POP handle (which starts with 1). */
const KIND = "T";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeHalfHandle(h: HalfHandle): string {
  return bytesToBase64Url(encoder.encode(JSON.stringify([KIND, h.brokerName, h.topic, h.queueId, h.transactionId, h.validUntil])));
}

/** The handle, or null when `text` is not a half handle. */
export function decodeHalfHandle(text: string): HalfHandle | null {
  if (text.length === 0 || text.length > Limits.maxReceiptHandleLength || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const bytes = base64UrlToBytes(text);
  if (!bytes) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 6 || parsed[0] !== KIND) return null;
  const [, brokerName, topic, queueId, transactionId, validUntil] = parsed as unknown[];
  if (typeof brokerName !== "string" || typeof topic !== "string" || typeof transactionId !== "string") return null;
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(transactionId)) return null;
  if (![queueId, validUntil].every((n) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0)) return null;
  return { brokerName, topic, queueId: queueId as number, transactionId, validUntil: validUntil as number };
}
