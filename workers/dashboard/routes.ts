/**
 * Serves the dashboard at GET /dashboard (mounted by workers/app.ts). The page is static; a
 * fresh CSP nonce per request lets only its own inline script and style run, and the policy
 * confines its requests to this origin and forbids framing it.
 */
import { Hono } from "hono";
import type { AppEnv } from "../shared/app-env.js";
import { cspNonce, pageHeaders } from "../shared/page-headers.js";
import { CSP_NONCE_PLACEHOLDER, dashboardHtml } from "../../dashboard/page.js";

export const dashboardRoutes = new Hono<AppEnv>().get("/", (c) => {
  const n = cspNonce();
  return c.body(dashboardHtml.replaceAll(CSP_NONCE_PLACEHOLDER, n), 200, pageHeaders(n, ["connect-src 'self'", "img-src 'self' data:"]));
});
