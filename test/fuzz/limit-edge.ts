/**
 * Limit-edge payloads (issue 12 item 1): messages at the worst case of every documented limit
 * at once (docs/limits.md, protocol/limits.ts), and ones just over a limit. Used by the write-path
 * tests inside workerd, the end-to-end limits test and the fuzz suite, so all three put the same
 * payloads through the system.
 *
 * Within the limits, one message carries 64 keys of 255 characters, a 255-character tag and
 * user properties filling the 32 KiB properties block exactly; a send request carries as many
 * of them as its 6 MiB cap holds. Keys are distinct per message, so the key index of a row is as
 * large as the request allows.
 */
import { bytesToBase64 } from "../../protocol/base64.js";
import type { ErrorCode } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import { propertiesSize } from "../../protocol/message.js";
import type { MessageIn } from "../../protocol/schemas.js";

const encoder = new TextEncoder();

/** A message in a form the client, the wire and the stored tests can all take. */
export interface EdgeMessage {
  tags: string;
  keys: string[];
  properties: Record<string, string>;
  body: Uint8Array;
}

export const MAX_KEYS = 64;
export const MAX_KEY_LENGTH = Limits.maxTagLength;

/**
 * Characters keys are made of: ASCII (1 byte each), a 3-byte character (so 64 keys do not fit
 * the properties block: as many as fit it), or a 4-byte one (two UTF-16 units each).
 */
export type KeyStyle = "ascii" | "threeByte" | "astral";

const FILL: Record<KeyStyle, string> = { ascii: "k", threeByte: "\u20ac", astral: "\u{1F511}" };

/** `count` distinct keys of exactly 255 UTF-16 units, each naming its message and position. */
export function edgeKeys(prefix: string, index: number, count: number = MAX_KEYS, style: KeyStyle = "ascii"): string[] {
  return Array.from({ length: count }, (_, k) => padKey(`${prefix}-${index}-${k}-`, style));
}

function padKey(head: string, style: KeyStyle): string {
  const fill = FILL[style];
  return (head + fill.repeat(Math.floor((MAX_KEY_LENGTH - head.length) / fill.length))).padEnd(MAX_KEY_LENGTH, "x");
}

/** The first keys of `keys` that fit the properties block beside `tags`. */
function keysThatFit(tags: string, keys: readonly string[]): string[] {
  // As propertiesSize counts them: "KEYS", the keys joined by spaces, two separators.
  let size = propertiesSize(tags, [], {}) + 4 + 2 - 1;
  let n = 0;
  for (const key of keys) {
    size += encoder.encode(key).length + 1;
    if (size > Limits.maxPropertiesBytes) break;
    n++;
  }
  return keys.slice(0, n);
}

/**
 * User properties that bring the properties block (tags, keys and these) to exactly `target`
 * bytes as RocketMQ encodes it; {} when tags and keys already fill it.
 */
export function fillProperties(tags: string, keys: readonly string[], target: number = Limits.maxPropertiesBytes): Record<string, string> {
  const properties: Record<string, string> = {};
  let room = target - propertiesSize(tags, keys, {});
  for (let i = 0; room > 0; i++) {
    const name = `edge${i}`;
    // name + value + the two separators; the last one takes what is left (at least 1 character).
    const overhead = name.length + 2;
    if (room <= overhead) break;
    const value = "v".repeat(Math.min(4096, room - overhead));
    properties[name] = value;
    room -= overhead + value.length;
  }
  return properties;
}

export interface EdgeOptions {
  /** Body size in bytes (default 1). */
  bodyBytes?: number;
  keys?: number;
  keyStyle?: KeyStyle;
  /** Fill the properties block to 32 KiB with user properties (default true). */
  fillProperties?: boolean;
}

/** One message at the edge: a 255-character tag, max keys, a full properties block. */
export function edgeMessage(prefix: string, index: number, options: EdgeOptions = {}): EdgeMessage {
  const style = options.keyStyle ?? "ascii";
  // Multi-byte keys fill the properties block before 64 of them: as many as fit.
  const tags = `T${index}`.padEnd(MAX_KEY_LENGTH, "t");
  const keys = keysThatFit(tags, edgeKeys(prefix, index, options.keys ?? MAX_KEYS, style));
  const properties = options.fillProperties === false ? {} : fillProperties(tags, keys);
  const body = new Uint8Array(options.bodyBytes ?? 1);
  for (let i = 0; i < body.length; i += 4096) body[i] = (index + i) & 0xff;
  return { tags, keys, properties, body };
}

/** The wire form a client sends (base64 body, a msgId and birth time), so sizes match the real request. */
export function toWire(m: EdgeMessage, msgId?: string): MessageIn {
  const wire: MessageIn = { body: bytesToBase64(m.body), tags: m.tags, keys: m.keys, properties: m.properties };
  if (msgId !== undefined) wire.msgId = msgId;
  wire.bornTimestamp = 1_700_000_000_000;
  return wire;
}

/** Bytes of a send request carrying `messages` (the client adds a msgId and birth time to each). */
export function requestBytes(messages: readonly EdgeMessage[]): number {
  return `{"messages":[]}`.length + messages.reduce((n, m, i) => n + wireBytes(m) + (i > 0 ? 1 : 0), 0);
}

function wireBytes(m: EdgeMessage): number {
  return encoder.encode(JSON.stringify(toWire(m, "F".repeat(32)))).length;
}

/** Room kept below the request cap for what a client or a test adds (transaction, delay fields). */
const REQUEST_MARGIN = 4096;

/**
 * As many messages from `make` as one send request holds: under the 6 MiB request cap, at most
 * 1,024, bodies at most 4 MiB in total.
 */
export function fillRequest(make: (i: number) => EdgeMessage, maxCount: number = Limits.maxBatchCount): EdgeMessage[] {
  const out: EdgeMessage[] = [];
  let bytes = requestBytes([]);
  let bodies = 0;
  while (out.length < maxCount) {
    const m = make(out.length);
    bytes += wireBytes(m) + (out.length > 0 ? 1 : 0);
    bodies += m.body.length;
    if (bytes > Limits.maxRequestBytes - REQUEST_MARGIN || bodies > Limits.maxBatchBodyBytes) break;
    out.push(m);
  }
  return out;
}

/**
 * Every within-limits batch shape that is worst for some part of the store: the key index (most
 * keys per request), the properties (full blocks), the count (1,024 messages), the bodies (4 MiB
 * in total) and multi-byte keys (the index measured in bytes, not characters).
 */
export const EDGE_BATCH_SHAPES = ["max keys", "max properties", "max count", "max bodies", "multi-byte keys", "astral keys"] as const;
export type EdgeBatchShape = (typeof EDGE_BATCH_SHAPES)[number];

/** One send request of `shape`, its keys starting with `prefix`. */
export function edgeBatch(prefix: string, shape: EdgeBatchShape): EdgeMessage[] {
  switch (shape) {
    case "max keys":
      return fillRequest((i) => edgeMessage(`${prefix}K`, i, { fillProperties: false }));
    case "max properties":
      return fillRequest((i) => edgeMessage(`${prefix}P`, i));
    case "max count": {
      // 1,024 messages share the request: each gets the keys that still fit.
      const room = (Limits.maxRequestBytes - REQUEST_MARGIN) / Limits.maxBatchCount - 400;
      const keys = Math.max(0, Math.min(MAX_KEYS, Math.floor(room / (MAX_KEY_LENGTH + 3))));
      return fillRequest((i) => edgeMessage(`${prefix}C`, i, { keys, fillProperties: false }), Limits.maxBatchCount);
    }
    case "max bodies":
      // 4 MiB of bodies over 64 messages (5.3 MiB as base64), keys in the rest of the request.
      return fillRequest((i) => edgeMessage(`${prefix}B`, i, { bodyBytes: Limits.maxBatchBodyBytes / 64, keys: 8, fillProperties: false }), 64);
    case "multi-byte keys":
      return fillRequest((i) => edgeMessage(`${prefix}U`, i, { keyStyle: "threeByte", fillProperties: false }));
    case "astral keys":
      return fillRequest((i) => edgeMessage(`${prefix}A`, i, { keyStyle: "astral", fillProperties: false }));
  }
}

/** The single message at every limit at once: a 4 MiB body beside a full properties block. */
export function edgeSingle(prefix: string, index = 0): EdgeMessage {
  return edgeMessage(prefix, index, { bodyBytes: Limits.maxBodyBytes });
}

/** Sends just over one limit each, with the documented refusal. */
export interface OverEdge {
  name: string;
  messages: MessageIn[];
  status: number;
  code: ErrorCode;
}

export function overEdges(prefix: string): OverEdge[] {
  const base = edgeMessage(prefix, 0, { fillProperties: false });
  const wire = (m: EdgeMessage) => toWire(m);
  const keyed = (i: number) => edgeMessage(`${prefix}R`, i, { fillProperties: false });
  return [
    { name: "65 keys", messages: [wire({ ...base, keys: edgeKeys(prefix, 0, 65) })], status: 400, code: "VALIDATION_FAILED" },
    { name: "a key of 256 characters", messages: [wire({ ...base, keys: [`${base.keys[0]!}x`] })], status: 400, code: "VALIDATION_FAILED" },
    {
      name: "properties block of 32 KiB + 1",
      messages: [wire({ ...base, properties: fillProperties(base.tags, base.keys, Limits.maxPropertiesBytes + 1) })],
      status: 413,
      code: "PROPERTIES_SIZE_EXCEEDED",
    },
    {
      name: "body of 4 MiB + 1",
      messages: [wire({ ...base, keys: [], properties: {}, body: new Uint8Array(Limits.maxBodyBytes + 1) })],
      status: 413,
      code: "MESSAGE_BODY_TOO_LARGE",
    },
    {
      name: "a request over 6 MiB",
      messages: [...fillRequest(keyed), keyed(10_000), keyed(10_001)].map(wire),
      status: 413,
      code: "REQUEST_TOO_LARGE",
    },
    {
      name: "1,025 messages",
      messages: Array.from({ length: Limits.maxBatchCount + 1 }, () => ({ body: "eA==" })),
      status: 400,
      code: "VALIDATION_FAILED",
    },
  ];
}
