/**
 * Base64 against an independent reference encoder. The cases are a function of the codec so that
 * the same ones run on every way base64.ts has: Node's Buffer and the portable one in Node
 * (base64.test.ts), workerd's native one (test/workerd/base64.test.ts).
 */
import { describe, expect, it } from "vitest";
import { base64DecodedLength, base64UrlToBytes, bytesToBase64Url, type Base64Codec } from "./base64.js";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65536 bytes per call.
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Independent reference encoder (RFC 4648), written bit by bit. */
function referenceBase64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const rem = bytes.length - i;
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += rem > 1 ? ALPHABET[(n >> 6) & 63]! : "=";
    out += rem > 2 ? ALPHABET[n & 63]! : "=";
  }
  return out;
}

function referenceBase64Url(bytes: Uint8Array): string {
  return referenceBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 255, 256, 1000, 32767, 32768, 32769, 65536, 100_003, 1 << 20];

export function base64Cases(codec: Base64Codec): void {
  const bytesToBase64 = (bytes: Uint8Array) => codec.encode(bytes);
  const base64ToBytes = (text: string) => codec.decode(text);
  describe(`${codec.name}: encode / decode`, () => {
    it.each(LENGTHS)("round-trips %i random bytes", (n) => {
      const bytes = randomBytes(n);
      const text = bytesToBase64(bytes);
      expect(text).toBe(referenceBase64(bytes));
      expect(text.length).toBe(Math.ceil(n / 3) * 4);
      const back = base64ToBytes(text);
      expect(back).toBeInstanceOf(Uint8Array);
      expect(back!.length).toBe(n);
      expect(sameBytes(back!, bytes)).toBe(true);
      expect(base64DecodedLength(text)).toBe(n);
    });

    it("encodes every byte value", () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const text = bytesToBase64(bytes);
      expect(text).toBe(referenceBase64(bytes));
      expect(Array.from(base64ToBytes(text)!)).toEqual(Array.from(bytes));
    });

    it("encodes known vectors (RFC 4648)", () => {
      const enc = (s: string): string => bytesToBase64(new TextEncoder().encode(s));
      expect(enc("")).toBe("");
      expect(enc("f")).toBe("Zg==");
      expect(enc("fo")).toBe("Zm8=");
      expect(enc("foo")).toBe("Zm9v");
      expect(enc("foob")).toBe("Zm9vYg==");
      expect(enc("fooba")).toBe("Zm9vYmE=");
      expect(enc("foobar")).toBe("Zm9vYmFy");
    });

    it("encodes a subarray, not its whole buffer", () => {
      const whole = Uint8Array.from([1, 2, 3, 4, 5, 6]);
      expect(bytesToBase64(whole.subarray(2, 5))).toBe(referenceBase64(Uint8Array.from([3, 4, 5])));
    });

    it("decodes the empty string to zero bytes", () => {
      expect(base64ToBytes("")!.length).toBe(0);
      expect(base64DecodedLength("")).toBe(0);
    });

    it("skips ASCII whitespace as atob does", () => {
      expect(Array.from(base64ToBytes("Zm9v\nYmFy")!)).toEqual(Array.from(new TextEncoder().encode("foobar")));
    });

    it("answers distinct bytes for each text", () => {
      const a = base64ToBytes("Zm9v")!;
      const b = base64ToBytes("YmFy")!;
      expect([a.length, b.length]).toEqual([3, 3]);
      a[0] = 0;
      expect(Array.from(b)).toEqual([0x62, 0x61, 0x72]);
      expect(a).toBeInstanceOf(Uint8Array);
    });

    it("decodes unpadded base64 and measures it exactly", () => {
      expect(Array.from(base64ToBytes("Zg")!)).toEqual([0x66]);
      expect(Array.from(base64ToBytes("Zm8")!)).toEqual([0x66, 0x6f]);
      expect(base64DecodedLength("Zg")).toBe(1);
      expect(base64DecodedLength("Zm8")).toBe(2);
      expect(base64DecodedLength("Zg==")).toBe(1);
      expect(base64DecodedLength("Zm8=")).toBe(2);
      expect(base64DecodedLength("Zm9v")).toBe(3);
    });

    it.each(["a", "Zg=", "Z===", "@@@@", "Zg==Zg==", "-_-_", "Zm9v!", "Zm9v\u00e9", "=Zm9", "Zm=9"])("returns undefined for invalid base64 %j", (text) => {
      expect(base64ToBytes(text)).toBeUndefined();
    });
  });

  describe(`${codec.name}: bytesToBase64Url / base64UrlToBytes`, () => {
    it.each(LENGTHS)("round-trips %i random bytes", (n) => {
      const bytes = randomBytes(n);
      const text = bytesToBase64Url(bytes);
      expect(text).toBe(referenceBase64Url(bytes));
      expect(/^[A-Za-z0-9_-]*$/.test(text)).toBe(true);
      const back = base64UrlToBytes(text);
      expect(back!.length).toBe(n);
      expect(sameBytes(back!, bytes)).toBe(true);
    });

    it("uses - and _ instead of + and /, with no padding", () => {
      const bytes = Uint8Array.from([0xfb, 0xff, 0xbf]);
      expect(bytesToBase64(bytes)).toBe("+/+/");
      expect(bytesToBase64Url(bytes)).toBe("-_-_");
      expect(Array.from(base64UrlToBytes("-_-_")!)).toEqual([0xfb, 0xff, 0xbf]);
      expect(bytesToBase64Url(Uint8Array.from([0x66]))).toBe("Zg");
      expect(bytesToBase64Url(Uint8Array.from([0x66, 0x6f]))).toBe("Zm8");
    });

    it("decodes the empty string to zero bytes", () => {
      expect(base64UrlToBytes("")!.length).toBe(0);
    });

    it.each(["Zg==", "Zm8=", "+/+/", "ab/c", "a", "abcde", "ab cd", "ab.c", "é"])("returns undefined for %j", (text) => {
      expect(base64UrlToBytes(text)).toBeUndefined();
    });
  });
}
