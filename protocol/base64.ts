/**
 * Base64 for binary message bodies in JSON, the same code in Workers, browsers and Node. Bodies
 * travel as base64 because JSON cannot carry raw bytes, so every message sent or received is
 * encoded or decoded once on the server: where the runtime has the native
 * `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64` (workerd, current browsers) they
 * are used, a tenth of the cost of the portable path (`btoa` over a binary string), which stays
 * for runtimes without them (Node 20, where the client runs).
 */
const CHUNK = 0x8000;

interface NativeBase64 {
  toBase64(options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
}
interface NativeFromBase64 {
  fromBase64(text: string, options?: { alphabet?: "base64" | "base64url"; lastChunkHandling?: "loose" | "strict" }): Uint8Array;
}

export const nativeBase64 =
  typeof (Uint8Array.prototype as Partial<NativeBase64>).toBase64 === "function" &&
  typeof (Uint8Array as unknown as Partial<NativeFromBase64>).fromBase64 === "function";
const fromNative = Uint8Array as unknown as NativeFromBase64;

export function bytesToBase64(bytes: Uint8Array): string {
  if (nativeBase64) return (bytes as unknown as NativeBase64).toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

/** Returns undefined for text that is not base64, so callers can answer with their own error. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  if (nativeBase64) {
    try {
      return fromNative.fromBase64(text);
    } catch {
      return undefined;
    }
  }
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
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
  if (nativeBase64) return (bytes as unknown as NativeBase64).toBase64({ alphabet: "base64url", omitPadding: true });
  return bytesToBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64UrlToBytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return base64ToBytes(padded);
}
