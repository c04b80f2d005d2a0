/**
 * What every HTML page the Worker serves (the dashboard, its sign-in page, /docs) answers
 * with: a Content-Security-Policy that runs only the page's own inline script and style (a
 * fresh nonce per response) and lets no other site frame it (clickjacking), plus no sniffing,
 * no caching and no referrer.
 */

/** A fresh CSP nonce: 16 random bytes, base64. */
export function cspNonce(): string {
  let bin = "";
  for (const b of crypto.getRandomValues(new Uint8Array(16))) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** `directives`: what the page needs beyond its own inline script and style (e.g. "connect-src 'self'"). */
export function pageHeaders(nonce: string, directives: readonly string[] = []): Record<string, string> {
  return {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      ...directives,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    // frame-ancestors for browsers that predate it.
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}
