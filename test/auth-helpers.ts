/**
 * Helpers for end-to-end tests of authentication: the accounts several test files configure,
 * signed raw HTTP calls (to see exactly what the server answers a request, signature and all),
 * and the "200" / "403 ACCESS_DENIED" outcome their tables compare.
 */
import type { Credentials } from "../client/credentials.js";
import { signRequest } from "../protocol/auth/signature.js";

/** An admin account. */
export const ROOT: Credentials = { accessKey: "root", secretKey: "root-secret-key-0001" };
/** An application account; each file gives it its own permissions. */
export const APP: Credentials = { accessKey: "app", secretKey: "app-secret-key-00001" };
/** An account allowed everything on topics and groups, but no admin. */
export const OPEN: Credentials = { accessKey: "open", secretKey: "open-secret-key-0001" };

/** What the server answered, with the body parsed when it is JSON (else `{}`). */
export interface Answer {
  status: number;
  code: string | undefined;
  body: Record<string, unknown>;
  text: string;
  headers: Headers;
}

/** One fetch, answered as an Answer. */
export async function fetchAnswer(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // HTML pages, empty HEAD answers
  }
  return { status: res.status, code: typeof body.code === "string" ? body.code : undefined, body, text, headers: res.headers };
}

/** Signed headers (plus content-type when there is a body) for one request, dated `now`. */
export async function signedHeaders(cred: Credentials, method: string, url: string, body?: string, now = Date.now()): Promise<Record<string, string>> {
  const headers = await signRequest(cred, { method, url, body }, now);
  return body === undefined ? headers : { ...headers, "content-type": "application/json" };
}

export interface SignedCallOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** The date to sign with, epoch ms; default now. */
  now?: number;
  /** Extra headers (an Authorization bearer token, say). */
  headers?: Record<string, string>;
}

/** One HTTP call to `base + path`, signed with `cred` (unsigned when null). */
export async function signedCall(base: string, cred: Credentials | null, method: string, path: string, options: SignedCallOptions = {}): Promise<Answer> {
  const url = base + path;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (cred) Object.assign(headers, await signedHeaders(cred, method, url, body, options.now));
  return fetchAnswer(url, { method, headers, ...(body !== undefined ? { body } : {}) });
}

/** "200", "201" or "403 ACCESS_DENIED": what the permission tables compare. */
export const outcome = (a: Answer): string => (a.status < 300 ? String(a.status) : `${a.status} ${a.code}`);
