/**
 * Serves the dashboard (mounted at /dashboard by workers/app.ts): the page at GET /dashboard
 * and its script, built from dashboard/app/, at GET /dashboard/app.js. The page's CSP runs only
 * scripts and styles carrying the response's fresh nonce (no inline script), confines its
 * requests to this origin and forbids framing it.
 */
import { Hono } from "hono";
import type { AppEnv } from "../shared/app-env.js";
import { cspNonce, pageHeaders } from "../shared/page-headers.js";
import { CSP_NONCE_PLACEHOLDER, dashboardHtml } from "../../dashboard/page.js";
import { dashboardScript } from "../../dashboard/generated/scripts.js";

export const dashboardRoutes = new Hono<AppEnv>()
  .get("/", (c) => {
    const n = cspNonce();
    return c.body(dashboardHtml.replaceAll(CSP_NONCE_PLACEHOLDER, n), 200, pageHeaders(n, ["connect-src 'self'", "img-src 'self' data:"]));
  })
  .get("/app.js", (c) =>
    c.body(dashboardScript, 200, {
      "content-type": "text/javascript; charset=utf-8",
      // Changes with every deploy; the page itself is not cached either.
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    }),
  );
