/**
 * Which webhook URLs a push subscription may target. A tenant who may create subscriptions must
 * not turn the server into a proxy into networks it can reach and the tenant cannot: so a URL
 * must be https to a public host, never an address in a private, loopback, link-local (cloud
 * metadata), unique-local or otherwise reserved range, given as an IP literal. Plain http is
 * allowed only to a loopback address, and only when the server runs locally (its tests and
 * `npm start`), where the receiver is a process on the same machine.
 *
 * Host names are not resolved here (a Worker cannot): on Cloudflare, a Worker's fetch reaches
 * only the public internet, so a name that resolves to a private address is not reached there.
 */

export interface WebhookUrlOptions {
  /** The server runs locally: http:// to loopback (127.0.0.0/8, ::1, localhost) is allowed. */
  allowLoopbackHttp: boolean;
}

/** Null when the URL may be targeted, else why not (for PUSH_TARGET_NOT_ALLOWED). */
export function webhookUrlProblem(raw: string, options: WebhookUrlOptions): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "the webhook URL is not a valid absolute URL";
  }
  if (url.username || url.password) return "the webhook URL must not carry credentials";
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const loopback = isLoopback(host);
  if (url.protocol === "http:") {
    if (options.allowLoopbackHttp && loopback) return null;
    return "the webhook URL must be https (http only to a loopback address of a local server)";
  }
  if (url.protocol !== "https:") return "the webhook URL must be https";
  if (loopback) return options.allowLoopbackHttp ? null : "the webhook URL must not target a loopback address";
  if (host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return "the webhook URL must name a public host";
  const v4 = parseIPv4(host);
  if (v4 && isReservedIPv4(v4)) return "the webhook URL must not target a private, link-local or reserved address";
  if (host.includes(":") && isReservedIPv6(host)) return "the webhook URL must not target a private, link-local or reserved address";
  return null;
}

function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  const v4 = parseIPv4(host);
  return v4 !== null && v4[0] === 127;
}

/** Dotted-quad IPv4 (the URL parser has already normalised other spellings like 0x7f.1 or 2130706433). */
function parseIPv4(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : null;
}

function isReservedIPv4([a, b]: number[]): boolean {
  if (a === undefined || b === undefined) return true;
  return (
    a === 0 || // this network
    a === 10 || // private
    a === 127 || // loopback
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) || // private
    (a === 192 && b === 168) || // private
    (a === 192 && b === 0) || // IETF protocol assignments
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
  );
}

function isReservedIPv6(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "::" || h === "::1") return true;
  // IPv4-mapped (::ffff:a.b.c.d, which the URL parser writes as ::ffff:xxxx:xxxx): judge the IPv4 inside.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return isReservedIPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  const first = parseInt(h.split(":")[0] || "0", 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00 || // multicast
    h.startsWith("::") // unspecified, IPv4-compatible and other reserved forms
  );
}
