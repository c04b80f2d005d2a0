/**
 * Authentication and authorization at the edge. When any account is configured, every
 * operation except the public ones needs a valid signature (or a dashboard session), within
 * the replay window and with a nonce its access key's replay guard has not seen; then the
 * account must hold the permission the operation table names. A request the session cookie
 * authenticates must come from a page of this origin (same-origin.ts); a browser opening the
 * dashboard without a session is sent to the sign-in page. With no account configured the
 * Worker refuses to serve (503), unless it runs locally: ALLOW_UNAUTHENTICATED_LOCAL="true"
 * (set only by the local runner and `npm run dev`, never in wrangler.toml) and a loopback
 * hostname, which a request routed to a deployed Worker never carries.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { tryDecodeURIComponent } from "hono/utils/url";
import { isMQError, MQError } from "../../protocol/errors.js";
import { accessDenied, missingRight } from "../../protocol/auth/permissions.js";
import { AuthHeaders, SIGNATURE_WINDOW_MS, sha256Hex, signWithKey, timingSafeEqual } from "../../protocol/auth/signature.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import { operations, type Operation } from "../openapi/operations.js";
import type { AppEnv } from "../shared/app-env.js";
import { allAccounts } from "./accounts.js";
import { claimNonce } from "./replay.js";
import { parseSession, SESSION_COOKIE, verifySession } from "./session.js";
import { crossOriginRefusal } from "./same-origin.js";

interface Matcher {
  op: Operation;
  regex: RegExp;
  names: string[];
}

/**
 * The operations' matchers by method and first path segment (no operation's path starts with a
 * parameter), so a request tries the few that can match instead of every pattern in the table.
 */
const matchers = new Map<string, Matcher[]>();
for (const op of operations) {
  const names: string[] = [];
  const pattern = op.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:([A-Za-z]+)/g, (_, n: string) => {
    names.push(n);
    return "([^/]+)";
  });
  const key = matcherKey(op.method, op.path);
  matchers.set(key, [...(matchers.get(key) ?? []), { op, regex: new RegExp(`^${pattern}$`), names }]);
}

function matcherKey(method: string, path: string): string {
  const second = path.indexOf("/", 1);
  return `${method} ${second < 0 ? path : path.slice(0, second)}`;
}

export function matchOperation(method: string, path: string): { op: Operation; params: Record<string, string> } | undefined {
  for (const m of matchers.get(matcherKey(method, path)) ?? []) {
    const hit = m.regex.exec(path);
    if (!hit) continue;
    const params: Record<string, string> = {};
    // Decoded exactly as the router decodes `c.req.param()` (Hono's tryDecodeURIComponent, which
    // decodes the valid escapes of a name with invalid ones), so the name authorized is the name
    // the handler acts on, also for names with a `%`.
    m.names.forEach((n, i) => (params[n] = tryDecodeURIComponent(hit[i + 1] ?? "")));
    return { op: m.op, params };
  }
  return undefined;
}

/**
 * Signs for unknown access keys, so that an unknown key costs the same work as a known one with
 * a bad signature (no timing difference); it can never authenticate anyone.
 */
const NO_ACCOUNT_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

async function authenticate(c: Context<AppEnv>, accounts: Map<string, StoredAccount>): Promise<StoredAccount> {
  const now = Date.now();
  const bearer = c.req.header("authorization")?.match(/^Bearer (.+)$/)?.[1];
  const cookie = bearer === undefined ? getCookie(c, SESSION_COOKIE) : undefined;
  const token = bearer ?? cookie;
  const accessKey = c.req.header(AuthHeaders.accessKey);
  if (!accessKey && token) {
    const session = parseSession(token);
    const account = session ? accounts.get(session.accessKey) : undefined;
    if (!session || !account || !(await verifySession(account.signingKey, session, now)))
      throw new MQError("UNAUTHENTICATED", "the session token is invalid or expired; sign in again");
    // The browser attaches the cookie to requests of other pages of the same site too.
    if (cookie !== undefined) {
      const refusal = crossOriginRefusal({
        method: c.req.method,
        path: c.req.path,
        origin: new URL(c.req.url).origin,
        header: (name) => c.req.header(name),
      });
      if (refusal) throw new MQError("CROSS_ORIGIN_REFUSED", refusal);
    }
    c.set("session", { accessKey: session.accessKey, expiresAt: session.expiresAt });
    return account;
  }
  const date = c.req.header(AuthHeaders.date);
  const nonce = c.req.header(AuthHeaders.nonce);
  const contentSha256 = c.req.header(AuthHeaders.contentSha256);
  const signature = c.req.header(AuthHeaders.signature);
  if (!accessKey || !date || !nonce || !contentSha256 || !signature)
    throw new MQError("UNAUTHENTICATED", "this endpoint needs a signed request (x-mq-access-key, x-mq-date, x-mq-nonce, x-mq-content-sha256, x-mq-signature)");
  // Everything that does not depend on the account is checked before the key is looked up, and
  // an unknown key fails like a bad signature, so no answer tells which access keys exist.
  const at = Number(date);
  if (!Number.isSafeInteger(at) || Math.abs(now - at) > SIGNATURE_WINDOW_MS)
    throw new MQError("REQUEST_EXPIRED", `x-mq-date is more than ${SIGNATURE_WINDOW_MS / 1000} s away from the server's clock`);
  if (nonce.length < 8 || nonce.length > 64) throw new MQError("SIGNATURE_INVALID", "x-mq-nonce must be 8-64 characters");
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (!timingSafeEqual(await sha256Hex(body), contentSha256)) throw new MQError("SIGNATURE_INVALID", "x-mq-content-sha256 does not match the body");
  const account = accounts.get(accessKey);
  const url = new URL(c.req.url);
  const expected = await signWithKey(account?.signingKey ?? NO_ACCOUNT_KEY, {
    method: c.req.method,
    path: url.pathname,
    query: url.searchParams,
    contentSha256,
    date,
    nonce,
  });
  if (!timingSafeEqual(expected, signature) || !account) throw new MQError("SIGNATURE_INVALID", "unknown access key or bad signature");
  await claimNonce(c, accessKey, nonce, at);
  return account;
}

/** A browser navigation asks for text/html; fetch() and the client ask for anything or JSON. */
function acceptsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** Serving without accounts: only a local run that says so, and only to loopback addresses. */
function servesOpenLocally(c: Context<AppEnv>): boolean {
  return c.env.ALLOW_UNAUTHENTICATED_LOCAL === "true" && LOOPBACK.test(new URL(c.req.url).hostname);
}

export const authMiddleware: MiddlewareHandler<AppEnv> = async (c, next) => {
  // Match what the router will run: c.req.path is the percent-decoded path Hono routes on
  // (/admin/%61ccounts is /admin/accounts), and Hono answers HEAD with the GET handler.
  const matched = matchOperation(c.req.method === "HEAD" ? "GET" : c.req.method, c.req.path);
  if (matched) c.set("operation", matched.op);
  if (matched?.op.auth.kind === "public") return next();
  const accounts = await allAccounts(c.env);
  if (accounts.size === 0) {
    if (!servesOpenLocally(c)) throw new MQError("AUTH_NOT_CONFIGURED", "no account is configured: set FLAREMQ_ACCOUNTS with wrangler secret put");
    return next();
  }
  let account: StoredAccount;
  try {
    account = await authenticate(c, accounts);
  } catch (e) {
    // A browser opening the dashboard without a (valid) session is sent to sign in.
    if (isMQError(e) && e.code === "UNAUTHENTICATED" && matched?.op.path === "/dashboard" && acceptsHtml(c.req.header("accept"))) {
      c.header("cache-control", "no-store");
      return c.redirect("/dashboard/login", 302);
    }
    throw e;
  }
  // No operation matched: the router answers 404, but only to a valid account (fail closed).
  const missing = matched ? missingRight(account, matched.op.auth, matched.params) : undefined;
  if (missing !== undefined) throw accessDenied(account.accessKey, missing);
  c.set("account", account);
  return next();
};
