/**
 * Serves the dashboard at GET /dashboard (mounted by workers/app.ts). The page is static; a
 * fresh CSP nonce per request lets only its own inline script and style run, and the policy
 * confines its requests to this origin.
 */
import { Hono } from "hono";
import type { AppEnv } from "../workers/shared/app-env.js";
import { CSP_NONCE_PLACEHOLDER, dashboardHtml } from "./page.js";

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export const dashboardRoutes = new Hono<AppEnv>().get("/", (c) => {
  const n = nonce();
  return c.body(dashboardHtml.replaceAll(CSP_NONCE_PLACEHOLDER, n), 200, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'nonce-${n}'`,
      `style-src 'nonce-${n}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
});
