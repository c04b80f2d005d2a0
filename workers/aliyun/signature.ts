/**
 * The request signature of Alibaba Cloud's RocketMQ HTTP protocol (what `@aliyunmq/mq-http-sdk`
 * and its siblings send): `Authorization: MQ <AccessKeyId>:<signature>`, the signature being
 * Base64(HMAC-SHA1(AccessKeySecret, StringToSign)) over the verb, the Content-MD5, Content-Type
 * and Date header values verbatim, every `x-mq-*` header, and the request target exactly as
 * sent (path and query, not decoded, not re-ordered). Pure WebCrypto, so it runs in Workers and
 * in Node (the unit test checks the protocol's test vectors).
 */

export interface AliyunSignedParts {
  method: string;
  /** Content-MD5, Content-Type and Date header values exactly as received ("" when absent). */
  contentMd5: string;
  contentType: string;
  date: string;
  /** Every request header (any case); those named x-mq-* are signed. */
  headers: Iterable<[string, string]>;
  /** The request target as sent: path, then "?" and the query when there is one. */
  resource: string;
}

/** The signed headers' block: each x-mq-* header, lower-cased, sorted, as "name:value\n". */
export function canonicalizedMQHeaders(headers: Iterable<[string, string]>): string {
  return [...headers]
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .filter(([k]) => k.startsWith("x-mq-"))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}:${v}\n`)
    .join("");
}

export function stringToSign(p: AliyunSignedParts): string {
  return `${p.method.toUpperCase()}\n${p.contentMd5}\n${p.contentType}\n${p.date}\n${canonicalizedMQHeaders(p.headers)}${p.resource}`;
}

const encoder = new TextEncoder();

/** Base64(HMAC-SHA1(secret, text)). */
export async function hmacSha1Base64(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  let binary = "";
  for (const b of mac) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function signAliyun(secret: string, parts: AliyunSignedParts): Promise<string> {
  return hmacSha1Base64(secret, stringToSign(parts));
}

/** The access key id and signature of an `Authorization: MQ <id>:<signature>` header, or null. */
export function parseAuthorization(header: string): { accessKeyId: string; signature: string } | null {
  const hit = /^MQ ([^:]+):(.+)$/.exec(header);
  return hit ? { accessKeyId: hit[1]!, signature: hit[2]! } : null;
}

/**
 * The request targets a signature may have been computed over. WHATWG URL parsing (what a
 * Worker sees as request.url) re-encodes a few characters that encodeURIComponent leaves raw in
 * a query (notably `'`), so the raw form is tried as well.
 */
export function candidateResources(pathAndQuery: string): string[] {
  const raw = pathAndQuery.replace(/%27/g, "'");
  return raw === pathAndQuery ? [pathAndQuery] : [pathAndQuery, raw];
}

/** The MD5 of a body in the two forms SDKs send as Content-MD5: Base64 of its hex (Node, Go) and RFC 1864 Base64. */
export function contentMd5Forms(md5Bytes: Uint8Array): string[] {
  let hex = "";
  let binary = "";
  for (const b of md5Bytes) {
    hex += b.toString(16).padStart(2, "0");
    binary += String.fromCharCode(b);
  }
  return [btoa(hex), btoa(binary)];
}
