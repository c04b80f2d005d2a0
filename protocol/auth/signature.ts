/**
 * Request signing: HMAC-SHA256 over method, path, sorted query, a SHA-256 digest of the body,
 * a timestamp and a nonce. The secret key never travels; the server keeps only a signing key
 * derived from it (HMAC(secretKey, "flaremq-v1")), so a leaked store does not leak secrets.
 * WebCrypto only, so the same code signs in Node, browsers and Workers.
 */

export const AuthHeaders = {
  accessKey: "x-mq-access-key",
  date: "x-mq-date",
  nonce: "x-mq-nonce",
  contentSha256: "x-mq-content-sha256",
  signature: "x-mq-signature",
} as const;

/** How far a request's timestamp may be from the server's clock, either way. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

const encoder = new TextEncoder();

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return hex(new Uint8Array(digest));
}

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
}

/** The key the server stores: derived from the secret, useless for recovering it. */
export async function deriveSigningKey(secretKey: string): Promise<string> {
  return base64Url(await hmac(encoder.encode(secretKey), "flaremq-v1"));
}

/** `k=v` pairs sorted by key then value, each part percent-encoded. */
export function canonicalQuery(search: URLSearchParams): string {
  return [...search.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export interface SignedParts {
  method: string;
  /** The URL path exactly as sent (percent-encoded). */
  path: string;
  query: URLSearchParams;
  contentSha256: string;
  date: string;
  nonce: string;
}

export function canonicalRequest(p: SignedParts): string {
  return [p.method.toUpperCase(), p.path, canonicalQuery(p.query), p.contentSha256, p.date, p.nonce].join("\n");
}

export async function signWithKey(signingKey: string, parts: SignedParts): Promise<string> {
  return base64Url(await hmac(fromBase64Url(signingKey), canonicalRequest(parts)));
}

/** Headers that sign a request with an access key and its secret. */
/** An account's key pair: the access key names it, the secret key signs (and never travels). */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

export async function signRequest(
  credentials: Credentials,
  request: { method: string; url: string; body?: string | Uint8Array | undefined },
  now: number = Date.now(),
): Promise<Record<string, string>> {
  const url = new URL(request.url);
  const contentSha256 = await sha256Hex(request.body ?? "");
  const nonce = base64Url(crypto.getRandomValues(new Uint8Array(12)));
  const date = String(now);
  const signingKey = await cachedSigningKey(credentials.secretKey);
  const signature = await signWithKey(signingKey, {
    method: request.method,
    path: url.pathname,
    query: url.searchParams,
    contentSha256,
    date,
    nonce,
  });
  return {
    [AuthHeaders.accessKey]: credentials.accessKey,
    [AuthHeaders.date]: date,
    [AuthHeaders.nonce]: nonce,
    [AuthHeaders.contentSha256]: contentSha256,
    [AuthHeaders.signature]: signature,
  };
}

const signingKeys = new Map<string, Promise<string>>();

/** Derives each secret's signing key once per process; a client signs many requests. */
function cachedSigningKey(secretKey: string): Promise<string> {
  let key = signingKeys.get(secretKey);
  if (!key) {
    if (signingKeys.size > 100) signingKeys.clear();
    key = deriveSigningKey(secretKey);
    signingKeys.set(secretKey, key);
  }
  return key;
}

/** Constant-time comparison of two strings. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
