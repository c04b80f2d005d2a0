/**
 * The framed answer for message batches: a client that says it takes
 * `application/vnd.flaremq.framed` (Accept) gets a pull's messages with their bodies as raw
 * bytes after a JSON head, instead of base64 inside JSON. Base64 makes a 1 KiB body 1.37 KiB of
 * JSON string that both ends must scan; draining a backlog, JSON and base64 were about a quarter
 * of the Worker's CPU per message. Everything else answers JSON, and so do pulls and receives
 * for a client that does not ask (curl, other languages).
 *
 * Layout: u32 (big-endian) byte length of the head | head, UTF-8 JSON | the bodies, one after the
 * other. The head is the JSON answer with each message's `body` replaced by its byte length, so
 * the bodies are found by walking the head's `messages` in order; the lengths must account for
 * every byte after the head exactly.
 */

export const FRAMED_MEDIA_TYPE = "application/vnd.flaremq.framed";

/** Longest head a decoder accepts: far above any batch's (32 messages of ≤ 32 KiB properties each). */
const MAX_HEAD_BYTES = 64 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether an Accept header asks for the framed answer. */
export function acceptsFramed(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes(FRAMED_MEDIA_TYPE);
}

/** An answer whose messages carry their bodies as bytes. */
export type WithByteBodies<T extends { messages: { body: unknown }[] }> = Omit<T, "messages"> & {
  messages: (Omit<T["messages"][number], "body"> & { body: Uint8Array })[];
};

/**
 * The framed bytes of `head` and `bodies`: the head's messages give each body's byte length in
 * `body`, in the order of `bodies`.
 */
export function encodeFramed(head: { messages: { body: number }[] }, bodies: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const json = encoder.encode(JSON.stringify(head));
  let total = 4 + json.byteLength;
  for (const b of bodies) total += b.byteLength;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, json.byteLength);
  out.set(json, 4);
  let at = 4 + json.byteLength;
  for (const b of bodies) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * The answer in `bytes`, each message's body a copy of its bytes (a view would keep the whole
 * answer alive for as long as any one message is kept, and expose the others through `.buffer`);
 * undefined for bytes that are not a well-formed frame (a short or long body section, a head that is not JSON or
 * whose messages do not give body lengths).
 */
export function decodeFramed<T extends { messages: { body: unknown }[] }>(bytes: Uint8Array): WithByteBodies<T> | undefined {
  if (bytes.byteLength < 4) return undefined;
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (headLength > MAX_HEAD_BYTES || 4 + headLength > bytes.byteLength) return undefined;
  let head: unknown;
  try {
    head = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headLength)));
  } catch {
    return undefined;
  }
  if (typeof head !== "object" || head === null || !Array.isArray((head as { messages?: unknown }).messages)) return undefined;
  const messages = (head as { messages: unknown[] }).messages;
  let at = 4 + headLength;
  for (const m of messages) {
    const length = typeof m === "object" && m !== null ? (m as { body?: unknown }).body : undefined;
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || at + length > bytes.byteLength) return undefined;
    (m as { body: Uint8Array }).body = bytes.slice(at, at + length);
    at += length;
  }
  if (at !== bytes.byteLength) return undefined;
  return head as WithByteBodies<T>;
}
