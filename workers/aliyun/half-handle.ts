/**
 * Receipt handles of transaction half messages in the Alibaba Cloud HTTP protocol: what a
 * transactional publish answers and what a half-message consume (`trans=pop`) hands out, then
 * passed to commit or rollback. It names the half message (queue and transaction id) and when
 * it stops being valid (the publish's __TransCheckT, or the check's NextConsumeTime). Like the
 * POP handle (protocol/receipt-handle.ts) it is base64url of a JSON array, XML- and URL-safe,
 * and carries no secret: PUB on the topic and on the group is the authority to decide.
 */
import { bytesToBase64Url } from "../../protocol/base64.js";
import { decodeHandleFields } from "../../protocol/receipt-handle.js";

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

export function encodeHalfHandle(h: HalfHandle): string {
  return bytesToBase64Url(encoder.encode(JSON.stringify([KIND, h.brokerName, h.topic, h.queueId, h.transactionId, h.validUntil])));
}

/** The handle, or null when `text` is not a half handle. */
export function decodeHalfHandle(text: string): HalfHandle | null {
  const parsed = decodeHandleFields(text);
  if (!parsed || parsed.length !== 6 || parsed[0] !== KIND) return null;
  const [, brokerName, topic, queueId, transactionId, validUntil] = parsed;
  if (typeof brokerName !== "string" || typeof topic !== "string" || typeof transactionId !== "string") return null;
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(transactionId)) return null;
  if (![queueId, validUntil].every((n) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0)) return null;
  return { brokerName, topic, queueId: queueId as number, transactionId, validUntil: validUntil as number };
}
