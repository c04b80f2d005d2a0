/**
 * How the dashboard writes numbers, times, sizes, permissions, message bodies and errors: pure
 * functions (no DOM), unit-tested in format.test.ts.
 */
import { bytesToBase64 } from "../../protocol/base64.js";
import { isMQError } from "../../protocol/errors.js";

/** An integer with thousands separators, or a dash when there is no number. */
export function fmtInt(n: number | null | undefined): string {
  return typeof n === "number" && Number.isFinite(n) ? n.toLocaleString("en-US") : "—";
}

/** Local date and time to the second (`2024-05-01 13:04:05`), or a dash for no time. */
export function fmtTime(ms: number | null | undefined): string {
  if (!ms || ms <= 0) return "—";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** How long ago, coarsely (`12 s ago`, `3 min ago`, `5 h ago`), then the time itself past a day. */
export function fmtAgo(ms: number | null | undefined, nowMs: number = Date.now()): string {
  if (!ms || ms <= 0) return "—";
  const s = Math.round((nowMs - ms) / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return fmtTime(ms);
}

export function fmtBytes(n: number | null | undefined): string {
  if (typeof n !== "number" || !Number.isFinite(n)) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

/** `1 message`, `2 messages`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A topic's permission bits as RocketMQ shows them: R for read, W for write. */
export function permText(perm: number): string {
  return (perm & 4 ? "R" : "-") + (perm & 2 ? "W" : "-");
}

/** Retry, dead-letter and system topics, hidden from the topic list by default. */
export function isSystemTopic(topic: string): boolean {
  return topic.startsWith("%RETRY%") || topic.startsWith("%DLQ%") || topic.startsWith("RMQ_SYS_");
}

export interface DecodedBody {
  /** The body as UTF-8 text, or null when it is not valid UTF-8. */
  text: string | null;
  size: number;
  base64: string;
}

export function decodeBody(body: Uint8Array): DecodedBody {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(body), size: body.length, base64: bytesToBase64(body) };
  } catch {
    return { text: null, size: body.length, base64: bytesToBase64(body) };
  }
}

/** At most `max` characters of a body's text, or a note that it is binary. */
export function bodyPreview(body: Uint8Array, max: number): string {
  const d = decodeBody(body);
  if (d.text === null) return `(binary, ${d.size} bytes)`;
  return d.text.length > max ? `${d.text.slice(0, max)}…` : d.text;
}

/** A datetime-local input's value as epoch ms (local time), or null when empty or invalid. */
export function localTimeMs(value: string): number | null {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? t : null;
}

/** Epoch ms as a datetime-local input takes it (local time, to the second). */
export function toLocalInput(ms: number): string {
  return fmtTime(ms).replace(" ", "T");
}

/** What the dashboard shows for a failed call: the error code first (`TOPIC_NOT_EXIST: ...`). */
export function errorText(e: unknown): string {
  if (isMQError(e)) return `${e.code}: ${e.message}${e.requestId ? `  (request ${e.requestId})` : ""}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Compares by a string key, for sorting names. */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
