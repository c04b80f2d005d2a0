import { describe, expect, it } from "vitest";
import { md5 } from "./md5.js";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

describe("md5", () => {
  it("returns 16 bytes", () => {
    const digest = md5("abc");
    expect(digest).toBeInstanceOf(Uint8Array);
    expect(digest.length).toBe(16);
  });

  it.each([
    // RFC 1321 appendix A.5 test suite.
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
    ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"],
    ["The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6"],
    ["The quick brown fox jumps over the lazy dog.", "e4d909c290d0fb1ca068ffaddf22cbd0"],
  ])("md5(%j) = %s", (text, expected) => {
    expect(hex(md5(text))).toBe(expected);
  });

  it.each([
    // Padding boundaries: 55 bytes fit one block, 56 need a second; 64 fill a block exactly.
    [55, "ef1772b6dff9a122358552954ad0df65"],
    [56, "3b0c8ac703f828b04c6c197006d17218"],
    [63, "b06521f39153d618550606be297466d5"],
    [64, "014842d480b571495a4a0363793f7367"],
    [65, "c743a45e0d2e6a95cb859adae0248435"],
    [1_000_000, "7707d6ae4e027c70eea2a935c2296f21"],
  ])("md5 of %i × 'a' (block boundaries, many blocks)", (count, expected) => {
    expect(hex(md5("a".repeat(count)))).toBe(expected);
  });

  it.each([
    ["é", "66ddcd97cfdeabb2f6fb8a999b4bc76f"],
    ["日本語", "00110af8b4393ef3f72c50be5b332bec"],
    ["😀", "2a02eac39d716a70ecf37579185927b6"],
    ["Grüße, Jürgen — naïve café 😀", "6f725598d18d09377f5bfa1ad7f35e7c"],
  ])("hashes the UTF-8 bytes of %j", (text, expected) => {
    expect(hex(md5(text))).toBe(expected);
  });

  it("encodes a lone surrogate as U+FFFD, as TextEncoder does", () => {
    expect(hex(md5("\uD800"))).toBe("9b759040321a408a5c7768b4511287a6");
    expect(hex(md5("\uFFFD"))).toBe("9b759040321a408a5c7768b4511287a6");
  });
});
