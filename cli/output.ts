/**
 * What commands print: aligned tables and key/value blocks for people, JSON for machines
 * (`--json`), message bodies as UTF-8 text when they are valid UTF-8 and base64 otherwise,
 * and errors as `error CODE: message` on stderr (plus `{ "error": { code, message } }` on
 * stdout with --json).
 */
import { bytesToBase64 } from "../protocol/base64.js";
import type { MessageExt, MessageQueue } from "../client/index.js";

/** A command's answer: `data` is printed with --json, `text` otherwise. */
export interface Output {
  data: unknown;
  text: string;
}

export type Cell = string | number | boolean | null | undefined;

/**
 * Columns aligned with two spaces between them; numbers are right-aligned. An empty table
 * prints its header and `(none)`.
 */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((r) => r.map(cellText));
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === "number"));
  const widths = headers.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]?.length ?? 0)));
  const line = (r: readonly string[]): string =>
    r
      .map((text, c) => (numeric[c] ? text.padStart(widths[c]!) : c === r.length - 1 ? text : text.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  const out = [line(headers), ...cells.map(line)];
  if (rows.length === 0) out.push("(none)");
  return out.join("\n");
}

/** `label: value` lines with the values aligned. */
export function keyValues(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${cellText(v)}`.trimEnd()).join("\n");
}

function cellText(v: Cell): string {
  if (v === null || v === undefined || v === "") return "-";
  return String(v);
}

/** `1 message`, `3 messages`. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Epoch milliseconds as ISO time; 0 or absent as "-". */
export function time(ms: number | null | undefined): string {
  return ms ? new Date(ms).toISOString() : "-";
}

export function queueName(mq: MessageQueue): string {
  return `${mq.brokerName}/${mq.queueId}`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A body as text when it is valid UTF-8, else as base64; the encoding says which. */
export function decodeBody(body: Uint8Array): { body: string; bodyEncoding: "utf8" | "base64" } {
  try {
    return { body: strictUtf8.decode(body), bodyEncoding: "utf8" };
  } catch {
    return { body: bytesToBase64(body), bodyEncoding: "base64" };
  }
}

/** A message for --json: every MessageExt field, the body decoded as `decodeBody` says. */
export function messageJson(m: MessageExt): Omit<MessageExt, "body"> & { body: string; bodyEncoding: "utf8" | "base64" } {
  return { ...m, ...decodeBody(m.body) };
}

/** One message in full: its fields, properties and body. */
export function messageText(m: MessageExt): string {
  const { body, bodyEncoding } = decodeBody(m.body);
  const props = Object.entries(m.properties);
  return [
    keyValues([
      ["topic", m.topic],
      ["queue", queueName(m)],
      ["queueOffset", m.queueOffset],
      ["msgId", m.msgId],
      ["offsetMsgId", m.offsetMsgId],
      ["tags", m.tags],
      ["keys", m.keys.join(" ")],
      ["bornTimestamp", time(m.bornTimestamp)],
      ["bornHost", m.bornHost],
      ["storeTimestamp", time(m.storeTimestamp)],
      ["reconsumeTimes", m.reconsumeTimes],
      ["flag", m.flag],
      ["bodySize", m.body.length],
    ]),
    props.length === 0 ? "properties: -" : `properties:\n${props.map(([k, v]) => `  ${k}=${v}`).join("\n")}`,
    `body (${bodyEncoding}):\n${body}`,
  ].join("\n");
}

/**
 * Messages one per row, bodies shortened to one line. `originTopic` adds the topic a retried
 * or dead-lettered message came from (its RETRY_TOPIC property).
 */
export function messagesTable(messages: readonly MessageExt[], options: { originTopic?: boolean } = {}): string {
  const origin = options.originTopic === true;
  return table(
    ["MSG_ID", "OFFSET_MSG_ID", ...(origin ? ["ORIGIN_TOPIC"] : []), "QUEUE", "OFFSET", "TAGS", "KEYS", "STORED", "RECONSUMES", "BODY"],
    messages.map((m) => [
      m.msgId,
      m.offsetMsgId,
      ...(origin ? [m.properties.RETRY_TOPIC] : []),
      queueName(m),
      m.queueOffset,
      m.tags,
      m.keys.join(" "),
      time(m.storeTimestamp),
      m.reconsumeTimes,
      shortBody(m.body),
    ]),
  );
}

function shortBody(bytes: Uint8Array): string {
  const { body, bodyEncoding } = decodeBody(bytes);
  const oneLine = JSON.stringify(body).slice(1, -1);
  const cut = oneLine.length > 40 ? `${oneLine.slice(0, 39)}…` : oneLine;
  return bodyEncoding === "utf8" ? cut : `base64:${cut}`;
}

/** `{ "error": { code, message } }`, as --json prints a failure. */
export function errorJson(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } }, null, 2);
}
