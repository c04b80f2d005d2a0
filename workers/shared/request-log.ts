/**
 * One log line per answered request: method, path, status, milliseconds and request id, e.g.
 * `GET /namesrv/topics 200 3ms req=5f0c...`. Every 5xx is logged (console.error), always, so
 * a server-side failure can be found by the request id its client saw; other requests only
 * when LOG_REQUESTS is "true" (`npm start -- --log requests`). On Cloudflare, Workers Logs
 * records every request anyway (wrangler.toml's observability), so production leaves it off.
 * Workers clocks move only across I/O, so the time is time spent waiting, not CPU.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.js";

/**
 * The line for one request. The path is the URL's, still percent-encoded (a decoded %0A would
 * start a fake line), without the query string, which a log has no need of.
 */
export function requestLogLine(r: { method: string; path: string; status: number; ms: number; requestId: string }): string {
  return `${r.method} ${r.path} ${r.status} ${Math.round(r.ms)}ms req=${r.requestId}`;
}

export const requestLog: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = performance.now();
  await next();
  const status = c.res.status;
  if (status < 500 && c.env.LOG_REQUESTS !== "true") return;
  const line = requestLogLine({
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    status,
    ms: performance.now() - started,
    requestId: c.get("requestId"),
  });
  if (status >= 500) console.error(line);
  else console.log(line);
};
