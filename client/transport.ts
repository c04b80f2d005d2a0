/**
 * HTTP transport shared by every client class: injected fetch, a per-call timeout composed
 * with the caller's AbortSignal, and server errors rebuilt as typed MQErrors.
 */
import { errorFromBody, MQError } from "../protocol/errors.js";
import { signRequest } from "../protocol/auth/signature.js";
import { resolveCredentials, type Credentials } from "./credentials.js";
import { sleep } from "./timing.js";
import { decodeFramed, FRAMED_MEDIA_TYPE } from "../protocol/framed-messages.js";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options every client class accepts. */
export interface ClientOptions {
  /**
   * Base URL of a flaremq deployment, e.g. `http://127.0.0.1:8787`, or several URLs of it
   * (RocketMQ's namesrvAddr list): a call that cannot reach one, or times out reading from
   * it, moves on to the next, and later calls stay on the one that answered.
   */
  endpoint: string | readonly string[];
  /** fetch implementation; default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Timeout of one HTTP call in milliseconds; default 3000 (RocketMQ's mqClientApiTimeout). */
  requestTimeoutMs?: number;
  /**
   * Access key and secret that sign every request. Default: FLAREMQ_ACCESS_KEY and
   * FLAREMQ_SECRET_KEY, else (Node, local endpoint) the dev key `npm start` wrote; null: unsigned.
   */
  credentials?: Credentials | null;
  /**
   * Whether answers may come gzip- or brotli-compressed (Accept-Encoding), as Cloudflare's edge
   * compresses JSON for clients that ask. Default false: the answers are small, or message
   * bodies that are often compressed already, and compressing them cost more CPU on both ends
   * than it saved (a third of the client's CPU draining a backlog on one machine). Turn it on
   * for consumers reading large text messages over a slow link. Pulls and receives then come as
   * JSON with base64 bodies, not framed (Cloudflare's edge compresses JSON, not the framed type).
   */
  compressedAnswers?: boolean;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's requestTimeoutMs for this call. */
  timeoutMs?: number;
}

export interface RequestInitLite extends CallOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  query?: Record<string, string | number | undefined> | undefined;
  body?: unknown;
  /**
   * Asks for the framed answer (protocol/framed-messages.ts): message bodies as raw bytes after
   * a JSON head. The answer comes back with each message's body a Uint8Array; a server that
   * answers JSON instead is read as JSON, bodies left as they came. Not asked with
   * `compressedAnswers`: Cloudflare's edge compresses JSON but not this media type.
   */
  framed?: boolean;
}

export class Transport {
  /** The endpoint calls go to now (the first of the list until it fails). */
  get endpoint(): string {
    return this.endpoints[this.current]!;
  }
  readonly endpoints: readonly string[];
  private current = 0;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly acceptIdentity: boolean;

  constructor(options: ClientOptions) {
    const list = typeof options.endpoint === "string" ? [options.endpoint] : [...options.endpoint];
    if (list.length === 0) throw new MQError("BAD_REQUEST", "endpoint needs at least one URL");
    for (const e of list) {
      if (!/^https?:\/\//.test(e)) throw new MQError("BAD_REQUEST", `endpoint must be an http(s) URL, got "${e}"`);
    }
    this.endpoints = list.map((e) => e.replace(/\/+$/, ""));
    const f = options.fetch ?? globalThis.fetch;
    // Bound so that a bare `fetch` keeps its receiver in browsers and Workers.
    this.fetchImpl = (input, init) => f(input, init);
    this.timeoutMs = options.requestTimeoutMs ?? 3000;
    this.acceptIdentity = options.compressedAnswers !== true;
    this.credentials = resolveCredentials(options.credentials, this.endpoints[0]!);
  }

  private readonly credentials: Promise<Credentials | undefined>;

  /**
   * The URL and signed headers of a GET to `path` on the current endpoint, for a WebSocket
   * upgrade the caller opens itself (the send channel): signed as any call, so the server checks
   * the account's rights on it the same way.
   */
  async signedUpgrade(path: string): Promise<{ url: string; headers: Record<string, string> }> {
    const url = this.endpoint + path;
    const credentials = await this.credentials;
    return { url, headers: credentials ? await signRequest(credentials, { method: "GET", url }) : {} };
  }

  /** The fetch the client was given (a Worker opens a WebSocket through fetch). */
  get fetch(): FetchLike {
    return this.fetchImpl;
  }

  /**
   * Sends one call, failing over along the endpoint list: on a network error (the call did
   * not get through), and for reads also on a timeout or a 502/503/504 without an answer code.
   */
  async request<T>(path: string, init: RequestInitLite = {}): Promise<T> {
    const start = this.current;
    let last: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (start + i) % this.endpoints.length;
      try {
        const value = await this.requestOnce<T>(this.endpoints[index]!, path, init);
        this.current = index;
        return value;
      } catch (e) {
        if (!this.mayFailOver(e, init)) throw e;
        last = e;
      }
    }
    throw last;
  }

  private mayFailOver(e: unknown, init: RequestInitLite): boolean {
    if (this.endpoints.length === 1 || !(e instanceof MQError) || init.signal?.aborted) return false;
    if (e.code === "NETWORK_ERROR") return true;
    const read = (init.method ?? "GET") === "GET";
    return read && (e.code === "TIMEOUT" || (e.code === "SERVICE_UNAVAILABLE" && e.message.startsWith("HTTP ")));
  }

  private async requestOnce<T>(endpoint: string, path: string, init: RequestInitLite, resigned = false): Promise<T> {
    const url = new URL(endpoint + path);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const timeoutMs = init.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    // Not AbortSignal.any: Node holds a signal it makes only weakly from its sources, and fetch
    // holds its signal weakly too, so after a garbage collection the caller's abort could reach
    // nothing and a long poll outlive its consumer's shutdown. Listeners on the sources hold this one.
    const composite = new AbortController();
    const abort = () => composite.abort();
    init.signal?.addEventListener("abort", abort, { once: true });
    timeout.addEventListener("abort", abort, { once: true });
    if (init.signal?.aborted) composite.abort();
    try {
      return await this.exchange<T>(url, init, composite.signal, timeout, timeoutMs, endpoint, path, resigned);
    } finally {
      init.signal?.removeEventListener("abort", abort);
      timeout.removeEventListener("abort", abort);
    }
  }

  private async exchange<T>(
    url: URL,
    init: RequestInitLite,
    signal: AbortSignal,
    timeout: AbortSignal,
    timeoutMs: number,
    endpoint: string,
    path: string,
    resigned: boolean,
  ): Promise<T> {
    const method = init.method ?? "GET";
    const requestInit: RequestInit = { method, signal };
    // Browsers drop Accept-Encoding set by a page (a forbidden header); Node and Workers send it.
    const headers: Record<string, string> = this.acceptIdentity ? { "accept-encoding": "identity" } : {};
    if (init.framed && this.acceptIdentity) headers.accept = `${FRAMED_MEDIA_TYPE}, application/json`;
    let payload: string | undefined;
    if (init.body !== undefined) {
      payload = JSON.stringify(init.body);
      requestInit.body = payload;
      headers["content-type"] = "application/json";
    }
    const credentials = await this.credentials;
    if (credentials) Object.assign(headers, await signRequest(credentials, { method, url: url.toString(), body: payload }));
    if (Object.keys(headers).length > 0) requestInit.headers = headers;
    let response: Response;
    try {
      response = await this.fetchImpl(url.toString(), requestInit);
    } catch (e) {
      if (init.signal?.aborted) throw new MQError("ABORTED", "the call was aborted", { cause: e });
      if (timeout.aborted) throw new MQError("TIMEOUT", `no answer within ${timeoutMs} ms from ${url.pathname}`, { cause: e });
      throw new MQError("NETWORK_ERROR", `request to ${url.origin} failed: ${(e as Error).message}`, { cause: e });
    }
    let body: unknown;
    try {
      body =
        response.ok && init.framed && response.headers.get("content-type") === FRAMED_MEDIA_TYPE
          ? framedBody(await response.arrayBuffer())
          : await response.json();
    } catch (e) {
      if (e instanceof MQError) throw e;
      if (init.signal?.aborted) throw new MQError("ABORTED", "the call was aborted", { cause: e });
      if (timeout.aborted) throw new MQError("TIMEOUT", `answer from ${url.pathname} did not finish within ${timeoutMs} ms`);
      if (response.ok) throw new MQError("NETWORK_ERROR", `answer from ${url.pathname} is not JSON`);
      body = undefined;
    }
    if (!response.ok) {
      const error = errorFromBody(response.status, body);
      // Refused before anything ran because it was signed just before the server's replay memory
      // restarted: signing it again after Retry-After (a second or two) is safe for any call.
      const retryAfterMs = Number(response.headers.get("retry-after") ?? "NaN") * 1000;
      if (error.code === "REQUEST_STALE" && !resigned && retryAfterMs >= 0 && retryAfterMs <= MAX_STALE_WAIT_MS) {
        await sleep(retryAfterMs, init.signal);
        if (init.signal?.aborted) throw new MQError("ABORTED", "the call was aborted");
        return this.requestOnce<T>(endpoint, path, init, true);
      }
      throw error;
    }
    return body as T;
  }
}

function framedBody(bytes: ArrayBuffer): unknown {
  const decoded = decodeFramed(new Uint8Array(bytes));
  if (!decoded) throw new MQError("NETWORK_ERROR", "the framed answer is malformed");
  return decoded;
}

/** Longest Retry-After a REQUEST_STALE answer is waited out for (once) before the call fails. */
const MAX_STALE_WAIT_MS = 5_000;

export function pathSegment(value: string | number): string {
  return encodeURIComponent(String(value));
}
