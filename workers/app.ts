/**
 * The public Worker: one Hono app in front of the NameServer and broker objects. Request
 * size is capped here, and every failure leaves as `{ code, message, requestId }`.
 */
import { Hono } from "hono";
import { isMQError } from "../protocol/errors.js";
import { Limits } from "../protocol/limits.js";
import { brokerRoutes } from "./broker-shard/routes.js";
import { lookupRoutes } from "./broker-shard/lookup-routes.js";
import { multiSendRoutes } from "./broker-shard/multi-send.js";
import { namesrvRoutes } from "./namesrv/routes.js";
import { producerRoutes } from "./producers/routes.js";
import { groupRoutes } from "./groups/routes.js";
import { dlqRoutes } from "./groups/dlq.js";
import { popRoutes } from "./groups/pop-routes.js";
import { pushRoutes } from "./groups/push-routes.js";
import { applyDeclaredPushSubscriptions } from "./groups/push-config.js";
import { topicRoutes } from "./topics/routes.js";
import type { AppEnv } from "./shared/app-env.js";
import { requestSizeLimit } from "./shared/body-limit.js";
import { requestLog } from "./shared/request-log.js";
import { cspNonce, pageHeaders } from "./shared/page-headers.js";
import { docsPage, openApiDocument } from "./openapi/document.js";
import { authMiddleware } from "./auth/middleware.js";
import { rateLimit } from "./shared/rate-limit.js";
import { adminRoutes, authRoutes, loginRoutes } from "./auth/routes.js";
import { dashboardRoutes } from "./dashboard/routes.js";
import { faultRoutes } from "./faults/routes.js";
import { metricsRoutes } from "./metrics/routes.js";
import { recordRequest } from "./metrics/request-metrics.js";
import { aliyunDoor } from "./aliyun/routes.js";
import { nextRequestId } from "./shared/request-id.js";

export const app = new Hono<AppEnv>();

app.use(async (c, next) => {
  c.set("requestId", c.req.header("x-request-id")?.slice(0, 64) ?? nextRequestId());
  await next();
  c.header("x-request-id", c.get("requestId"));
});

// One line per request when LOG_REQUESTS is on; every 5xx always, with its request id.
app.use(requestLog);

// Requests per operation of the API table, by status, with latency (GET /metrics). Workers
// clocks move only across I/O, so the latency is time spent waiting, not CPU.
app.use(async (c, next) => {
  const started = performance.now();
  await next();
  const op = c.get("operation");
  recordRequest(op ? `${op.method} ${op.path}` : "other", c.res.status, (performance.now() - started) / 1000);
});

// Push subscriptions declared in wrangler.toml: applied once per isolate, beside its first request.
app.use(async (c, next) => {
  if (c.env.PUSH_SUBSCRIPTIONS) {
    const applying = applyDeclaredPushSubscriptions(c.env);
    try {
      c.executionCtx.waitUntil(applying);
    } catch {
      // No execution context (app.request in a unit test): the promise runs on its own.
    }
  }
  await next();
});

// The Alibaba Cloud RocketMQ HTTP protocol's requests (workers/aliyun/): their own signature,
// limits and XML answers, so they are served before the native middleware.
app.use(aliyunDoor);
app.use(requestSizeLimit(Limits.maxRequestBytes));
app.use(async (c, next) => {
  // Headers are capped too (Cloudflare allows 128 KB); nothing here needs more than 32 KiB.
  let bytes = 0;
  c.req.raw.headers.forEach((v, k) => (bytes += k.length + v.length + 4));
  if (bytes > Limits.maxHeaderBytes) {
    return c.json({ code: "HEADERS_TOO_LARGE", message: `request headers exceed ${Limits.maxHeaderBytes} bytes`, requestId: c.get("requestId") }, 431);
  }
  return next();
});
app.use(authMiddleware);
app.use(rateLimit);

app.get("/healthz", (c) => c.json({ ok: true }));
app.get("/openapi.json", (c) => c.json(openApiDocument()));
app.get("/docs", (c) => {
  const nonce = cspNonce();
  return c.body(docsPage(nonce), 200, pageHeaders(nonce));
});
app.route("/namesrv", namesrvRoutes);
app.route("/brokers", brokerRoutes);
app.route("/messages", lookupRoutes);
app.route("/producers", producerRoutes);
app.route("/groups", groupRoutes);
app.route("/dashboard", loginRoutes);
app.route("/dashboard", dashboardRoutes);
app.route("/auth", authRoutes);
app.route("/admin", adminRoutes);
app.route("/groups", dlqRoutes);
app.route("/groups", popRoutes);
app.route("/groups", pushRoutes);
app.route("/topics", topicRoutes);
app.route("/topics", multiSendRoutes);
app.route("/_test", faultRoutes);
app.route("/metrics", metricsRoutes);

app.notFound((c) => c.json({ code: "NOT_FOUND", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}`, requestId: c.get("requestId") }, 404));

app.onError((err, c) => {
  const requestId = c.get("requestId");
  if (isMQError(err)) {
    if (err.status >= 500) console.error(`[${requestId}] ${err.code}: ${err.message}`, err.cause ?? "");
    return c.json({ code: err.code, message: err.message, requestId }, err.status as 400);
  }
  console.error(`[${requestId}] unhandled`, err);
  return c.json({ code: "INTERNAL_ERROR", message: "internal error", requestId }, 500);
});
