/**
 * The message bodies of a send request that is over the HTTP request limit, measured as the
 * request streams past (the edge reads such a request only to discard it; see body-limit.ts),
 * without holding it: a 5 MiB body breaks the 4 MiB message body limit before it breaks the
 * 6 MiB request limit, and the refusal should name the limit the sender actually broke.
 *
 * A small JSON scanner: it follows objects, arrays and strings byte by byte (JSON's structure is
 * ASCII, so UTF-8 needs no decoding) and, for every object in an array (a message of
 * `messages`, also within `queues` of a multi-queue send) with a `body` string, counts the
 * body's decoded bytes as the send path would (`bodyEncoding` "utf8": its UTF-8 bytes; else
 * base64: three bytes per four characters). Long string runs are skipped with indexOf. Input
 * that is not JSON just yields whatever was counted before it went wrong.
 */
import { Limits } from "../../protocol/limits.js";

export interface BodySizes {
  /** Bodies found (messages with a `body` string). */
  count: number;
  /** The largest body's decoded size, and its position among the bodies (0-based). */
  largest: number;
  largestIndex: number;
  /** Decoded sizes of all bodies together. */
  total: number;
}

interface Frame {
  kind: "object" | "array";
  /** In an object: the next string is a key. */
  expectKey: boolean;
  /** The key whose value comes next (short keys only; others are not ours). */
  key: string | null;
  /** A `body` string's raw length (base64 characters, padding excluded) and UTF-8 bytes. */
  base64Chars: number;
  utf8Bytes: number;
  hasBody: boolean;
  /** The `bodyEncoding` value, when short. */
  encoding: string | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
/** Keys and values longer than this are not ones the scanner looks for. */
const MAX_NAME = 32;
/** Deeper nesting than any send request has: the scanner stops following it. */
const MAX_DEPTH = 64;

type StringRole = "key" | "body" | "encoding" | "other";

export class BodySizeScanner {
  private readonly stack: Frame[] = [];
  private inString = false;
  private role: StringRole = "other";
  private text = "";
  private escape = false;
  /** Hex digits of a \uXXXX escape still to come, and those read. */
  private hexLeft = 0;
  private hex = "";
  private broken = false;
  /** Where a quote and a backslash next occur in the current chunk: -1 none left, -2 not looked yet. */
  private quoteAt = -2;
  private backslashAt = -2;
  private readonly sizes: BodySizes = { count: 0, largest: 0, largestIndex: -1, total: 0 };

  /** Feeds the next chunk of the request body. */
  push(chunk: Uint8Array): void {
    this.quoteAt = -2;
    this.backslashAt = -2;
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.inString) i = this.inStringAt(chunk, i);
      else i = this.structureAt(chunk, i);
    }
  }

  /** What was measured so far (the whole request once every chunk was pushed). */
  result(): BodySizes {
    return { ...this.sizes };
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** A message is an object in an array (`messages`); a property named "body" is not one. */
  private inArray(): boolean {
    return this.stack[this.stack.length - 2]?.kind === "array";
  }

  private structureAt(chunk: Uint8Array, i: number): number {
    const byte = chunk[i]!;
    const frame = this.top();
    switch (byte) {
      case 0x7b: // {
      case 0x5b: // [
        if (this.stack.length >= MAX_DEPTH) this.broken = true;
        else
          this.stack.push({
            kind: byte === 0x7b ? "object" : "array",
            expectKey: byte === 0x7b,
            key: null,
            base64Chars: 0,
            utf8Bytes: 0,
            hasBody: false,
            encoding: null,
          });
        break;
      case 0x7d: // }
      case 0x5d: {
        // ]
        const closed = this.stack.pop();
        if (closed?.hasBody) this.record(closed);
        this.valueDone();
        break;
      }
      case 0x3a: // :
        break;
      case 0x2c: // ,
        if (frame?.kind === "object") {
          frame.expectKey = true;
          frame.key = null;
        }
        break;
      case QUOTE:
        this.inString = true;
        this.text = "";
        if (frame?.kind === "object" && frame.expectKey) this.role = "key";
        else if (frame?.kind === "object" && frame.key === "body" && this.inArray()) this.role = "body";
        else if (frame?.kind === "object" && frame.key === "bodyEncoding") this.role = "encoding";
        else this.role = "other";
        if (this.role === "body") frame!.hasBody = true;
        break;
      default:
        // Whitespace, numbers, true, false, null: nothing to measure.
        break;
    }
    return i + 1;
  }

  private inStringAt(chunk: Uint8Array, i: number): number {
    const frame = this.top();
    if (this.hexLeft > 0) {
      this.hex += String.fromCharCode(chunk[i]!);
      if (--this.hexLeft === 0) this.escaped(utf8Length(parseInt(this.hex, 16)));
      return i + 1;
    }
    if (this.escape) {
      this.escape = false;
      if (chunk[i] === 0x75) {
        // \uXXXX
        this.hexLeft = 4;
        this.hex = "";
      } else this.escaped(1, chunk[i]);
      return i + 1;
    }
    // Runs of plain bytes up to the next quote or backslash, skipped natively; where each is
    // next is remembered, so a string of many escapes costs no rescan of the chunk per escape.
    while (i < chunk.length) {
      const quote = this.nextQuote(chunk, i);
      const slash = this.nextBackslash(chunk, i);
      const end = quote < 0 ? slash : slash < 0 ? quote : Math.min(quote, slash);
      const runEnd = end < 0 ? chunk.length : end;
      this.plain(chunk, i, runEnd, frame);
      if (end < 0) return chunk.length;
      if (end === quote) {
        this.stringDone();
        return end + 1;
      }
      // A backslash: simple escapes (\n, \") are taken here; a \u escape or one cut by the chunk's end goes the slow way.
      const escaped = chunk[end + 1];
      if (escaped === undefined || escaped === 0x75) {
        this.escape = true;
        return end + 1;
      }
      this.escaped(1, escaped);
      i = end + 2;
      // A run of simple escapes, counted without looking for the next quote each time.
      let n = 0;
      while (chunk[i] === BACKSLASH && chunk[i + 1] !== undefined && chunk[i + 1] !== 0x75) {
        if (this.role === "body") n++;
        else this.escaped(1, chunk[i + 1]);
        i += 2;
      }
      if (n > 0 && frame) {
        frame.utf8Bytes += n;
        frame.base64Chars += n;
      }
    }
    return i;
  }

  /** Plain string bytes `from`..`to` of the chunk: counted in a body, kept (short) in a key or encoding. */
  private plain(chunk: Uint8Array, from: number, to: number, frame: Frame | undefined): void {
    if (this.role === "body" && frame) {
      frame.utf8Bytes += to - from;
      frame.base64Chars += to - from - trailingEquals(chunk, from, to);
    } else if (this.role !== "other" && this.text.length <= MAX_NAME) {
      this.text += String.fromCharCode(...chunk.subarray(from, Math.min(to, from + MAX_NAME + 1)));
    }
  }

  private nextQuote(chunk: Uint8Array, from: number): number {
    if (this.quoteAt !== -1 && this.quoteAt < from) this.quoteAt = chunk.indexOf(QUOTE, from);
    return this.quoteAt;
  }

  private nextBackslash(chunk: Uint8Array, from: number): number {
    if (this.backslashAt !== -1 && this.backslashAt < from) this.backslashAt = chunk.indexOf(BACKSLASH, from);
    return this.backslashAt;
  }

  /** One escaped character: `bytes` of UTF-8 in a body; in a key or encoding, the character (`char`, or "?" for a \u escape). */
  private escaped(bytes: number, char = 0x3f): void {
    if (this.role === "body") {
      const frame = this.top()!;
      frame.utf8Bytes += bytes;
      frame.base64Chars += 1;
    } else if (this.role !== "other" && this.text.length <= MAX_NAME) this.text += String.fromCharCode(char);
  }

  private stringDone(): void {
    this.inString = false;
    const frame = this.top();
    if (this.role === "key" && frame) {
      frame.expectKey = false;
      frame.key = this.text.length <= MAX_NAME ? this.text : null;
      return;
    }
    if (this.role === "encoding" && frame) frame.encoding = this.text;
    this.valueDone();
  }

  /** A value ended: in an object, what follows is a comma, not another value for the key. */
  private valueDone(): void {
    const frame = this.top();
    if (frame?.kind === "object") frame.key = null;
  }

  private record(frame: Frame): void {
    const size = frame.encoding === "utf8" ? frame.utf8Bytes : Math.floor((frame.base64Chars * 3) / 4);
    const s = this.sizes;
    if (size > s.largest || s.largestIndex < 0) {
      s.largest = size;
      s.largestIndex = s.count;
    }
    s.count++;
    s.total += size;
  }
}

/** `=` padding at the end of a run (base64 counts only data characters). */
function trailingEquals(chunk: Uint8Array, from: number, to: number): number {
  let n = 0;
  while (to - n > from && chunk[to - n - 1] === EQUALS) n++;
  return n;
}

/** UTF-8 bytes of one \uXXXX escape (each half of a surrogate pair counts two of its four). */
function utf8Length(codeUnit: number): number {
  if (Number.isNaN(codeUnit) || codeUnit < 0x80) return 1;
  if (codeUnit < 0x800 || (codeUnit >= 0xd800 && codeUnit <= 0xdfff)) return 2;
  return 3;
}

/** Whether the measured bodies break a body limit on their own (the one to name, before the request limit). */
export function brokenBodyLimit(sizes: BodySizes): "body" | "bodies" | null {
  if (sizes.largest > Limits.maxBodyBytes) return "body";
  if (sizes.total > Limits.maxBatchBodyBytes) return "bodies";
  return null;
}
