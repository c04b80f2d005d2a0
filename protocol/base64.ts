/**
 * Base64 for binary message bodies in JSON, the same code in Workers, browsers and Node. Bodies
 * travel as base64 because JSON cannot carry raw bytes, so every message sent or received is
 * encoded or decoded once on each side. Three ways, the fastest the runtime has:
 * - native: `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64` (workerd, current
 *   browsers), a tenth of the cost of the portable way;
 * - Node's `Buffer` (Node 20, where the client runs without the native ones);
 * - portable: `btoa`/`atob` over a binary string, for anything else.
 * Each way answers the same (protocol/base64.cases.ts runs the same cases on all three).
 */
const CHUNK = 0x8000;

export interface Base64Codec {
  readonly name: "native" | "buffer" | "portable";
  encode(bytes: Uint8Array): string;
  /** undefined for text that is not base64 (padded or not), so callers can answer with their own error. */
  decode(text: string): Uint8Array | undefined;
}

interface NativeToBase64 {
  toBase64(): string;
}
interface NativeFromBase64 {
  fromBase64(text: string): Uint8Array;
}
type NodeBuffer = Omit<Uint8Array, "toString"> & { toString(encoding: "base64"): string; readonly buffer: ArrayBuffer };
interface NodeBufferClass {
  from(bytes: ArrayBufferLike, byteOffset: number, length: number): NodeBuffer;
  from(text: string, encoding: "base64"): NodeBuffer;
}

export const portableBase64: Base64Codec = {
  name: "portable",
  encode(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += CHUNK) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
    }
    return btoa(binary);
  },
  decode(text) {
    let binary: string;
    try {
      binary = atob(text);
    } catch {
      return undefined;
    }
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  },
};

function nativeCodec(): Base64Codec | undefined {
  const from = Uint8Array as unknown as Partial<NativeFromBase64>;
  if (typeof (Uint8Array.prototype as Partial<NativeToBase64>).toBase64 !== "function" || typeof from.fromBase64 !== "function") return undefined;
  const fromBase64 = from.fromBase64.bind(Uint8Array);
  return {
    name: "native",
    encode: (bytes) => (bytes as unknown as NativeToBase64).toBase64(),
    decode(text) {
      try {
        return fromBase64(text);
      } catch {
        return undefined;
      }
    },
  };
}

function bufferCodec(): Base64Codec | undefined {
  const NodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;
  if (!NodeBuffer) return undefined;
  return {
    name: "buffer",
    encode: (bytes) => NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
    decode(text) {
      // Buffer skips what it cannot read instead of refusing it: the text is taken only when the
      // bytes encode back to it (padded, and padding only on whole quads); anything else gets the
      // portable way's answer.
      const decoded = NodeBuffer.from(text, "base64");
      const padding = (4 - (text.length % 4)) % 4;
      if (padding === 3 || (padding > 0 && text.endsWith("=")) || decoded.toString("base64") !== text + "==".slice(0, padding)) {
        return portableBase64.decode(text);
      }
      // A plain view of Node's buffer pool, as Node's own APIs answer: a fresh 1 KiB allocation
      // outside the V8 heap costs more than the whole decoding.
      return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length);
    },
  };
}

/** The way this runtime takes. */
export const base64Codec: Base64Codec = nativeCodec() ?? bufferCodec() ?? portableBase64;

export function bytesToBase64(bytes: Uint8Array): string {
  return base64Codec.encode(bytes);
}

/** Returns undefined for text that is not base64, so callers can answer with their own error. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  return base64Codec.decode(text);
}

/** Exact decoded length of a base64 string, so size limits apply before decoding. */
export function base64DecodedLength(text: string): number {
  const len = text.length;
  if (len === 0) return 0;
  let padding = 0;
  if (text.endsWith("==")) padding = 2;
  else if (text.endsWith("=")) padding = 1;
  return Math.floor((len * 3) / 4) - padding;
}

export function bytesToBase64Url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64UrlToBytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return base64ToBytes(padded);
}
