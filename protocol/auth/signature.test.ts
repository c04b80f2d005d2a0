import { describe, expect, it } from "vitest";
import {
  AuthHeaders,
  base64Url,
  canonicalQuery,
  canonicalRequest,
  deriveSigningKey,
  fromBase64Url,
  sha256Hex,
  SIGNATURE_WINDOW_MS,
  signRequest,
  signWithKey,
  timingSafeEqual,
  type SignedParts,
} from "./signature.js";

const SECRET = "unit-test-secret-0123456789";
/** Known answers, computed with Node's crypto (createHmac / createHash), pinning the scheme. */
const SECRET_SIGNING_KEY = "VaEJqPX-pDjmbIEYSkVwIV-ueenzFRkVi71F0qPZPAY";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SHA256 = {
  '{"a":1}': "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862",
  xyz: "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282",
  '{"messages":[{"body":"héllo"}]}': "446f78f5ce6a875ce095cc5cf5e297a03df87a7b344ac5d4d9a05770293f137e",
} as const;

/** HMAC-SHA256 in base64url, written here without the module's helpers. */
async function independentHmac(key: Uint8Array, message: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(message)));
  return btoa(String.fromCharCode(...sig))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
function independentUnBase64Url(text: string): Uint8Array {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

describe("canonicalQuery", () => {
  it("is empty for no parameters", () => {
    expect(canonicalQuery(new URLSearchParams())).toBe("");
  });

  it("sorts by key, then by value for repeated keys, keeping empty values", () => {
    expect(canonicalQuery(new URLSearchParams("b=2&a=3&c=&a=1&k=b&k=B&k=a"))).toBe("a=1&a=3&b=2&c=&k=B&k=a&k=b");
  });

  it("percent-encodes keys and values with encodeURIComponent", () => {
    const q = new URLSearchParams();
    q.append("x y", "a/b+c&d=e");
    q.append("é", "ü?#");
    q.append("safe", "A-z_0.9~!*'()");
    // Sorted after encoding: "%C3%A9" (0x25...) comes before "safe" and "x%20y".
    expect(canonicalQuery(q)).toBe("%C3%A9=%C3%BC%3F%23&safe=A-z_0.9~!*'()&x%20y=a%2Fb%2Bc%26d%3De");
  });

  it("orders by the encoded key, in code unit order (upper case before lower case)", () => {
    const q = new URLSearchParams();
    q.append("~", "1"); // stays "~" (0x7e)
    q.append("%", "2"); // becomes "%25" (0x25)
    q.append("a", "3");
    q.append("B", "4");
    expect(canonicalQuery(q)).toBe("%25=2&B=4&a=3&~=1");
  });

  it("does not depend on how the sender encoded the query", () => {
    const spelled = ["q=a b&z=1", "z=1&q=a+b", "q=a%20b&z=%31", "z=1&q=%61%20b"];
    const canon = spelled.map((s) => canonicalQuery(new URLSearchParams(s)));
    expect(canon).toEqual(["q=a%20b&z=1", "q=a%20b&z=1", "q=a%20b&z=1", "q=a%20b&z=1"]);
  });
});

describe("canonicalRequest", () => {
  it("joins upper-case method, path, query, body digest, date and nonce with newlines", () => {
    const parts: SignedParts = {
      method: "post",
      path: "/brokers/broker-a/topics/%25RETRY%25g/queues/0/messages",
      query: new URLSearchParams("oneway=true&a=1"),
      contentSha256: "abc",
      date: "1700000000000",
      nonce: "nonce-123",
    };
    expect(canonicalRequest(parts)).toBe("POST\n/brokers/broker-a/topics/%25RETRY%25g/queues/0/messages\na=1&oneway=true\nabc\n1700000000000\nnonce-123");
  });
});

describe("hashing and encoding", () => {
  it("sha256Hex hashes strings and bytes alike", async () => {
    expect(await sha256Hex("")).toBe(EMPTY_SHA256);
    expect(await sha256Hex(new Uint8Array())).toBe(EMPTY_SHA256);
    const text = '{"messages":[{"body":"héllo"}]}';
    const expected = SHA256[text];
    expect(await sha256Hex(text)).toBe(expected);
    expect(await sha256Hex(new TextEncoder().encode(text))).toBe(expected);
  });

  it("base64Url round-trips every length without padding or +/", () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n * 11 + 250) % 256);
      const text = base64Url(bytes);
      expect(text).toHaveLength(Math.ceil((n * 4) / 3));
      expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
      expect([...independentUnBase64Url(text)]).toEqual([...bytes]);
      expect([...fromBase64Url(text)]).toEqual([...bytes]);
    }
  });

  it("timingSafeEqual compares exactly", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("", "")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "ab")).toBe(false);
    expect(timingSafeEqual("ab", "abc")).toBe(false);
  });

  it('deriveSigningKey is HMAC-SHA256(secret, "flaremq-v1") in base64url, and is not the secret', async () => {
    const key = await deriveSigningKey(SECRET);
    expect(key).toBe(SECRET_SIGNING_KEY);
    expect(key).toBe(await independentHmac(new TextEncoder().encode(SECRET), "flaremq-v1"));
    expect(key).toHaveLength(43);
    expect(key).not.toContain(SECRET);
    expect(await deriveSigningKey(SECRET + "x")).not.toBe(key);
  });

  it("allows 5 minutes of clock skew", () => {
    expect(SIGNATURE_WINDOW_MS).toBe(300_000);
  });
});

describe("signRequest", () => {
  const credentials = { accessKey: "app", secretKey: SECRET };
  const now = 1_700_000_000_000;

  it("produces the five headers, and a signature that verifies with the derived key", async () => {
    const url = "http://127.0.0.1:8787/topics/T%201/messages?key=k1&begin=5&end=10";
    const body = '{"a":1}';
    const headers = await signRequest(credentials, { method: "POST", url, body }, now);
    expect(Object.keys(headers).sort()).toEqual(
      [AuthHeaders.accessKey, AuthHeaders.contentSha256, AuthHeaders.date, AuthHeaders.nonce, AuthHeaders.signature].sort(),
    );
    expect(headers[AuthHeaders.accessKey]).toBe("app");
    expect(headers[AuthHeaders.date]).toBe(String(now));
    expect(headers[AuthHeaders.contentSha256]).toBe(SHA256[body]);
    const nonce = headers[AuthHeaders.nonce]!;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{16}$/); // 12 random bytes; the server wants 8-64 characters

    const signingKey = await deriveSigningKey(SECRET);
    const parts: SignedParts = {
      method: "POST",
      path: "/topics/T%201/messages",
      query: new URLSearchParams("key=k1&begin=5&end=10"),
      contentSha256: headers[AuthHeaders.contentSha256]!,
      date: String(now),
      nonce,
    };
    expect(headers[AuthHeaders.signature]).toBe(await signWithKey(signingKey, parts));
    // Independently: HMAC over the exact canonical text, keyed with the derived key's bytes.
    const canonical = ["POST", "/topics/T%201/messages", "begin=5&end=10&key=k1", SHA256[body], String(now), nonce].join("\n");
    expect(headers[AuthHeaders.signature]).toBe(await independentHmac(independentUnBase64Url(SECRET_SIGNING_KEY), canonical));
  });

  it("hashes an absent body as empty, and bytes like the same string", async () => {
    const url = "http://h/namesrv/topics";
    const none = await signRequest(credentials, { method: "GET", url }, now);
    expect(none[AuthHeaders.contentSha256]).toBe(EMPTY_SHA256);
    const asBytes = await signRequest(credentials, { method: "PUT", url, body: new TextEncoder().encode("xyz") }, now);
    const asText = await signRequest(credentials, { method: "PUT", url, body: "xyz" }, now);
    expect(asBytes[AuthHeaders.contentSha256]).toBe(asText[AuthHeaders.contentSha256]);
    expect(asBytes[AuthHeaders.contentSha256]).toBe(SHA256.xyz);
  });

  it("uses a fresh nonce, and so a fresh signature, for every request", async () => {
    const req = { method: "GET", url: "http://h/namesrv/topics" };
    const a = await signRequest(credentials, req, now);
    const b = await signRequest(credentials, req, now);
    expect(a[AuthHeaders.nonce]).not.toBe(b[AuthHeaders.nonce]);
    expect(a[AuthHeaders.signature]).not.toBe(b[AuthHeaders.signature]);
  });

  it("defaults the date to the current time", async () => {
    const before = Date.now();
    const h = await signRequest(credentials, { method: "GET", url: "http://h/healthz" });
    const date = Number(h[AuthHeaders.date]);
    expect(date).toBeGreaterThanOrEqual(before);
    expect(date).toBeLessThanOrEqual(Date.now());
  });
});

describe("signWithKey", () => {
  const base: SignedParts = {
    method: "POST",
    path: "/brokers/broker-a/topics/T/queues/0/messages",
    query: new URLSearchParams("oneway=true"),
    contentSha256: SHA256['{"a":1}'],
    date: "1700000000000",
    nonce: "AAAAAAAAAAAAAAAA",
  };

  it("changes with every signed part", async () => {
    const key = await deriveSigningKey(SECRET);
    const variants: Record<string, SignedParts> = {
      base,
      method: { ...base, method: "PUT" },
      path: { ...base, path: "/brokers/broker-a/topics/T2/queues/0/messages" },
      pathEncoding: { ...base, path: "/brokers/broker-a/topics/%54/queues/0/messages" },
      queryValue: { ...base, query: new URLSearchParams("oneway=false") },
      queryAdded: { ...base, query: new URLSearchParams("oneway=true&x=1") },
      queryRemoved: { ...base, query: new URLSearchParams() },
      body: { ...base, contentSha256: SHA256.xyz },
      date: { ...base, date: "1700000000001" },
      nonce: { ...base, nonce: "AAAAAAAAAAAAAAAB" },
    };
    const sigs: Record<string, string> = {};
    for (const [name, parts] of Object.entries(variants)) sigs[name] = await signWithKey(key, parts);
    expect(new Set(Object.values(sigs)).size).toBe(Object.keys(variants).length);
    expect(await signWithKey(await deriveSigningKey("another-secret-0123456789"), base)).not.toBe(sigs.base);
  });

  it("matches a known answer", async () => {
    const parts: SignedParts = {
      method: "POST",
      path: "/topics/T%201/messages",
      query: new URLSearchParams("key=k1&end=10&begin=5"),
      contentSha256: SHA256['{"a":1}'],
      date: "1700000000000",
      nonce: "AAAAAAAAAAAAAAAA",
    };
    // Node: createHmac("sha256", Buffer.from(signingKey, "base64url")).update(canonical).digest("base64url")
    expect(await signWithKey(SECRET_SIGNING_KEY, parts)).toBe("bJnSVSOfJp0rVrwtqEmTKv7cSqC8Rml8p1GP0VLFk2s");
  });

  it("does not change with method case or query order", async () => {
    const key = await deriveSigningKey(SECRET);
    const sig = await signWithKey(key, { ...base, query: new URLSearchParams("a=1&b=2") });
    expect(await signWithKey(key, { ...base, query: new URLSearchParams("b=2&a=1") })).toBe(sig);
    expect(await signWithKey(key, { ...base, method: "post", query: new URLSearchParams("a=1&b=2") })).toBe(sig);
  });
});
