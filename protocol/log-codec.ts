/**
 * Binary encoding of one commit-log row: a run of consecutive messages stored together, so a
 * batch (or a group commit of concurrent sends) costs one SQLite row written, not one per
 * message. Layout per message: u32 header length, UTF-8 JSON header, u32 body length, body.
 * The header is JSON because it is small and self-describing, which keeps old rows readable
 * when fields are added.
 */
import type { StoredMessage } from "./message.js";

interface Header {
  i: string;
  t?: string;
  k?: string[];
  p?: Record<string, string>;
  bt: number;
  bh?: string;
  f?: number;
  r?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMessages(messages: readonly StoredMessage[]): Uint8Array {
  const headers = messages.map((m) => {
    const h: Header = { i: m.msgId, bt: m.bornTimestamp };
    if (m.tags) h.t = m.tags;
    if (m.keys.length > 0) h.k = m.keys;
    if (Object.keys(m.properties).length > 0) h.p = m.properties;
    if (m.bornHost) h.bh = m.bornHost;
    if (m.flag) h.f = m.flag;
    if (m.reconsumeTimes) h.r = m.reconsumeTimes;
    return encoder.encode(JSON.stringify(h));
  });
  let total = 0;
  messages.forEach((m, idx) => {
    total += 8 + headers[idx]!.length + m.body.length;
  });
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let pos = 0;
  messages.forEach((m, idx) => {
    const header = headers[idx]!;
    view.setUint32(pos, header.length);
    out.set(header, pos + 4);
    pos += 4 + header.length;
    view.setUint32(pos, m.body.length);
    out.set(m.body, pos + 4);
    pos += 4 + m.body.length;
  });
  return out;
}

export function decodeMessages(data: Uint8Array): StoredMessage[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: StoredMessage[] = [];
  let pos = 0;
  while (pos < data.length) {
    const headerLength = view.getUint32(pos);
    const h = JSON.parse(decoder.decode(data.subarray(pos + 4, pos + 4 + headerLength))) as Header;
    pos += 4 + headerLength;
    const bodyLength = view.getUint32(pos);
    // slice, not subarray: the row buffer should not stay alive through every message handed out.
    const body = data.slice(pos + 4, pos + 4 + bodyLength);
    pos += 4 + bodyLength;
    out.push({
      msgId: h.i,
      tags: h.t ?? "",
      keys: h.k ?? [],
      properties: h.p ?? {},
      bornTimestamp: h.bt,
      bornHost: h.bh ?? "",
      flag: h.f ?? 0,
      reconsumeTimes: h.r ?? 0,
      body,
    });
  }
  return out;
}

/**
 * About the bytes `m` takes in a log row, body and header, counted from its fields without
 * encoding it (characters for bytes: exact for ASCII), so rows can be sized on the hot path.
 */
export function storedSize(m: StoredMessage): number {
  // 96: the header's field names, braces and numbers at their longest.
  let n = 8 + m.body.length + 96 + m.msgId.length + m.tags.length + m.bornHost.length;
  for (const k of m.keys) n += k.length + 3;
  for (const name in m.properties) n += name.length + m.properties[name]!.length + 6;
  return n;
}
