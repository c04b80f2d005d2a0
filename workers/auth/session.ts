/**
 * Dashboard sessions: a signed request to POST /auth/session returns a bearer token (also set
 * as an HttpOnly cookie) derived from the account's signing key, so a browser can load the
 * dashboard without holding a secret in every request. Tokens expire after 12 hours.
 */
import { base64Url, fromBase64Url, timingSafeEqual } from "../../protocol/auth/signature.js";

export const SESSION_TTL_MS = 12 * 3600_000;
export const SESSION_COOKIE = "mq_session";

async function mac(signingKey: string, accessKey: string, expiresAt: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", fromBase64Url(signingKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`session\n${accessKey}\n${expiresAt}`));
  return base64Url(new Uint8Array(sig));
}

export async function issueSession(signingKey: string, accessKey: string, now: number): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = now + SESSION_TTL_MS;
  return { token: `${accessKey}.${expiresAt}.${await mac(signingKey, accessKey, expiresAt)}`, expiresAt };
}

/** The access key of a valid, unexpired token, else undefined. */
export function parseSession(token: string): { accessKey: string; expiresAt: number; sig: string } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [accessKey, expires, sig] = parts as [string, string, string];
  const expiresAt = Number(expires);
  if (!accessKey || !Number.isSafeInteger(expiresAt) || !sig) return undefined;
  return { accessKey, expiresAt, sig };
}

export async function verifySession(signingKey: string, session: { accessKey: string; expiresAt: number; sig: string }, now: number): Promise<boolean> {
  if (session.expiresAt < now) return false;
  return timingSafeEqual(await mac(signingKey, session.accessKey, session.expiresAt), session.sig);
}
