/**
 * The format of ~/.flaremq/dev-credentials.json, where each local `npm start` leaves its dev key.
 * Several local servers (other ports, other state folders) share the one file, so it keeps a
 * key per server origin; a client takes the key of the server it talks to, never another's.
 *
 * Older versions wrote one `{ accessKey, secretKey, endpoint }`. Readers still accept that, and
 * writers keep those top-level fields (the last server started) so older clients go on working.
 */
import type { Credentials } from "../protocol/auth/signature.js";

export interface DevCredentialsFile {
  /** Server origin (`http://127.0.0.1:8787`) → its dev key. */
  endpoints?: Record<string, Credentials>;
  /** The single-entry format of older versions: the last server started. */
  accessKey?: string;
  secretKey?: string;
  endpoint?: string;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Whether a URL names a server on this machine (the only ones a dev key is for). */
export function isLoopback(endpoint: string): boolean {
  return LOOPBACK.has(new URL(endpoint).hostname);
}

/**
 * Two URLs reach the same local server when scheme and port agree and both hosts are loopback
 * names: `npm start` serves on 127.0.0.1, and a user may type `localhost`.
 */
function sameServer(a: URL, b: URL): boolean {
  if (a.origin === b.origin) return true;
  return a.protocol === b.protocol && a.port === b.port && LOOPBACK.has(a.hostname) && LOOPBACK.has(b.hostname);
}

function asCredentials(value: unknown): Credentials | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { accessKey, secretKey } = value as Partial<Record<keyof Credentials, unknown>>;
  return typeof accessKey === "string" && accessKey && typeof secretKey === "string" && secretKey ? { accessKey, secretKey } : undefined;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The entries of a parsed file as (origin, key) pairs; an old single entry is one pair. */
function entries(file: unknown): [string | undefined, Credentials][] {
  if (typeof file !== "object" || file === null) return [];
  const f = file as DevCredentialsFile;
  if (typeof f.endpoints === "object" && f.endpoints !== null) {
    const out: [string, Credentials][] = [];
    for (const [origin, value] of Object.entries(f.endpoints)) {
      const c = asCredentials(value);
      if (c) out.push([origin, c]);
    }
    return out;
  }
  const single = asCredentials(f);
  return single ? [[typeof f.endpoint === "string" ? f.endpoint : undefined, single]] : [];
}

/**
 * The dev key of the server at `endpoint`, or undefined when the file holds none for it. An old
 * single-entry file without an endpoint applies to any local server, as it always did.
 */
export function pickDevCredentials(file: unknown, endpoint: string): Credentials | undefined {
  const target = new URL(endpoint);
  const all = entries(file);
  for (const [origin, c] of all) {
    const url = origin === undefined ? undefined : parseUrl(origin);
    if (url && url.origin === target.origin) return c;
  }
  for (const [origin, c] of all) {
    if (origin === undefined) return c;
    const url = parseUrl(origin);
    if (url && sameServer(url, target)) return c;
  }
  return undefined;
}

/** The file after the server at `endpoint` records its key; other servers' keys stay. */
export function withDevCredentials(file: unknown, endpoint: string, credentials: Credentials): DevCredentialsFile {
  const origin = new URL(endpoint).origin;
  const endpoints: Record<string, Credentials> = {};
  for (const [o, c] of entries(file)) {
    const url = o === undefined ? undefined : parseUrl(o);
    // An old entry without an endpoint cannot be told apart from this server's: it is replaced.
    if (url && url.origin !== origin) endpoints[url.origin] = c;
  }
  endpoints[origin] = { accessKey: credentials.accessKey, secretKey: credentials.secretKey };
  return { accessKey: credentials.accessKey, secretKey: credentials.secretKey, endpoint: origin, endpoints };
}
