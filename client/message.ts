/** Messages as the client API shows them: bodies are bytes, UTF-8 strings are a convenience. */
import { base64ToBytes, bytesToBase64 } from "../protocol/base64.js";
import type { MessageExtWire } from "../protocol/message.js";
import type { MessageIn } from "../protocol/schemas.js";

export type { MessageQueue, SendResult, SendStatus, PullStatus } from "../protocol/message.js";

/** A message to send, as RocketMQ's Message. */
export interface Message {
  topic: string;
  /** Bytes, or a string sent as UTF-8. */
  body: Uint8Array | string;
  tags?: string;
  /** Business keys; a string is split on spaces as RocketMQ does. */
  keys?: string | string[];
  /** User properties. */
  properties?: Record<string, string>;
  flag?: number;
  /** Delay level (1 = 1s ... 18 = 2h with the default table); 0 or absent sends at once. */
  delayTimeLevel?: number;
  /** Deliver at this epoch time in ms (RocketMQ 5 timer messages); past times deliver at once. */
  deliverTimeMs?: number;
}

/** A received message, as RocketMQ's MessageExt: the wire form with the body as bytes. */
export interface MessageExt extends Omit<MessageExtWire, "body"> {
  body: Uint8Array;
}

const decoder = new TextDecoder();

/** The body decoded as UTF-8. */
export function bodyText(message: { body: Uint8Array }): string {
  return decoder.decode(message.body);
}

export function normaliseKeys(keys: string | string[] | undefined): string[] {
  if (keys === undefined) return [];
  const list = typeof keys === "string" ? keys.split(" ") : keys;
  return list.filter((k) => k.length > 0);
}

export function toWireMessage(message: Message, msgId: string, bornTimestamp: number): MessageIn {
  const wire: MessageIn = typeof message.body === "string" ? { body: message.body, bodyEncoding: "utf8" } : { body: bytesToBase64(message.body) };
  wire.msgId = msgId;
  wire.bornTimestamp = bornTimestamp;
  if (message.tags !== undefined && message.tags !== "") wire.tags = message.tags;
  const keys = normaliseKeys(message.keys);
  if (keys.length > 0) wire.keys = keys;
  if (message.properties && Object.keys(message.properties).length > 0) wire.properties = message.properties;
  if (message.flag !== undefined) wire.flag = message.flag;
  if (message.delayTimeLevel) wire.delayTimeLevel = message.delayTimeLevel;
  if (message.deliverTimeMs !== undefined) wire.deliverTimeMs = message.deliverTimeMs;
  return wire;
}

/**
 * A message of a server's answer with its body decoded: base64 in a JSON answer, already bytes in
 * a framed one (protocol/framed-messages.ts). The wire object is the caller's, fresh from the
 * answer, so its body is replaced in place: a copy of every field cost more than the decoding, 32
 * times per pull.
 */
export function fromWireMessage<W extends Omit<MessageExtWire, "body"> & { body: string | Uint8Array }>(wire: W): Omit<W, "body"> & { body: Uint8Array } {
  const message = wire as unknown as Omit<W, "body"> & { body: Uint8Array | string };
  if (typeof wire.body === "string") message.body = base64ToBytes(wire.body) ?? new Uint8Array();
  return message as Omit<W, "body"> & { body: Uint8Array };
}
