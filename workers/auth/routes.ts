/**
 * Account admin (secrets go in, never come out) and dashboard sessions.
 *
 * Accounts are created and deleted only by a signed admin request. A server without any
 * account (possible only locally, see the auth middleware) has no admin, so it refuses: the
 * first account comes from the FLAREMQ_ACCOUNTS secret (`npm start` writes a dev key there),
 * never from whoever reaches an open server first.
 */
import { Hono, type Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { MQError } from "../../protocol/errors.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson } from "../shared/validate.js";
import { accountsStub } from "../../cluster/stubs.js";
import { AccountInputSchema, invalidateAccounts, toStored } from "./accounts.js";
import { issueSession, SESSION_COOKIE } from "./session.js";
import { loginPage } from "../../dashboard/login-page.js";
import { cspNonce, pageHeaders } from "../shared/page-headers.js";

const AccountBodySchema = AccountInputSchema.omit({ accessKey: true });

function requireSignedAdmin(c: Context<AppEnv>): void {
  if (!c.get("account")?.admin)
    throw new MQError("ACCESS_DENIED", "accounts are managed by a signed admin request; the first account comes from the FLAREMQ_ACCOUNTS secret");
}

export const adminRoutes = new Hono<AppEnv>()
  .get("/accounts", async (c) => {
    const accounts = await accountsStub(c.env).list();
    // Neither secrets (never stored) nor signing keys leave the server.
    return c.json({ accounts: accounts.map(({ signingKey: _s, ...rest }) => rest) });
  })
  .put("/accounts/:accessKey", async (c) => {
    requireSignedAdmin(c);
    const accessKey = c.req.param("accessKey");
    const body = await readJson(c, AccountBodySchema);
    const input = AccountInputSchema.safeParse({ ...body, accessKey });
    if (!input.success) throw new MQError("VALIDATION_FAILED", "accessKey must be 3-64 of [A-Za-z0-9_-]");
    const stored = await toStored(input.data);
    await accountsStub(c.env).put(stored);
    invalidateAccounts();
    const { signingKey: _s, ...visible } = stored;
    return c.json(visible);
  })
  .delete("/accounts/:accessKey", async (c) => {
    requireSignedAdmin(c);
    const removed = await accountsStub(c.env).remove(c.req.param("accessKey"));
    invalidateAccounts();
    if (!removed) throw new MQError("NOT_FOUND", "no such account");
    return c.json({ deleted: c.req.param("accessKey") });
  });

export const authRoutes = new Hono<AppEnv>()
  .get("/session", (c) => {
    // The sign-in page asks before a sign-in link replaces the session of another account.
    const account = c.get("account");
    if (!account) throw new MQError("UNAUTHENTICATED", "sessions exist only when accounts are configured");
    return c.json({ accessKey: account.accessKey, expiresAt: c.get("session")?.expiresAt ?? null });
  })
  .post("/session", async (c) => {
    const account = c.get("account");
    if (!account) throw new MQError("UNAUTHENTICATED", "sessions exist only when accounts are configured");
    const { token, expiresAt } = await issueSession(account.signingKey, account.accessKey, Date.now());
    setCookie(c, SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: new URL(c.req.url).protocol === "https:",
      expires: new Date(expiresAt),
    });
    return c.json({ token, expiresAt });
  })
  .delete("/session", (c) => {
    // Signing out makes this browser forget its cookie. A token is stateless (an HMAC of the
    // account and expiry): a copy taken before stays valid until it expires.
    deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: new URL(c.req.url).protocol === "https:" });
    return c.json({ signedOut: true });
  });

export const loginRoutes = new Hono<AppEnv>().get("/login", (c) => {
  const nonce = cspNonce();
  return c.body(loginPage(nonce), 200, pageHeaders(nonce, ["connect-src 'self'"]));
});
