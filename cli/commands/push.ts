/**
 * `push set|show|pause|resume|delete`: a consumer group's push subscription, delivered by the
 * server to a Worker through a service binding or to a signed HTTPS webhook
 * (docs/push-subscriptions.md). `set` prints a new webhook's signing secret, once.
 */
import type { PushSubscriptionProgress, PushSubscriptionRequest, PushTarget } from "../../client/index.js";
import { UsageError, type FlagSpecs, type Flags } from "../args.js";
import type { Noun } from "../command.js";
import { keyValues, table, time } from "../output.js";

const groupFlag = { group: { kind: "string", value: "G", required: true, help: "consumer group" } } satisfies FlagSpecs;

const setFlags = {
  ...groupFlag,
  topic: { kind: "string", value: "T", required: true, help: "topic to deliver" },
  binding: { kind: "string", value: "NAME", help: "deliver to this service binding (one PUSH_SERVICE_BINDINGS allows)" },
  rpc: { kind: "bool", help: "call the bound Worker's deliver(batch) by RPC instead of POSTing to its fetch" },
  url: { kind: "string", value: "URL", help: "deliver to this HTTPS webhook (signed; the secret is printed once)" },
  tag: { kind: "string", value: "EXPR", help: 'tag expression (default "*")' },
  sql: { kind: "string", value: "EXPR", help: "SQL92 filter over properties instead of a tag expression" },
  orderly: { kind: "bool", help: "one batch at a time per queue, in offset order" },
  paused: { kind: "bool", help: "create it paused" },
  "batch-size": { kind: "int", value: "N", help: "messages per batch, 1-100 (default 10)" },
  "batch-timeout-ms": { kind: "int", value: "MS", help: "longest wait to fill a batch (default 5000)" },
  concurrency: { kind: "int", value: "N", help: "batches in flight per queue, 1-10 (default 1)" },
  "max-retries": { kind: "int", value: "N", help: "failed deliveries retried before the DLQ (default 16)" },
  "retry-delay-ms": { kind: "int", value: "MS", help: "fixed retry delay (default: the retry ladder 10s, 30s, 1m, ...)" },
  "timeout-ms": { kind: "int", value: "MS", help: "longest the target may take per batch (default 30000)" },
} satisfies FlagSpecs;

function targetOf(flags: Flags): PushTarget {
  const binding = flags.string("binding");
  const url = flags.string("url");
  if ((binding === undefined) === (url === undefined)) throw new UsageError("give exactly one of --binding and --url");
  if (url !== undefined) return { type: "webhook", url };
  return { type: "service", binding: binding!, ...(flags.bool("rpc") ? { call: "rpc" as const } : {}) };
}

function requestOf(flags: Flags): PushSubscriptionRequest {
  const sql = flags.string("sql");
  const optional = {
    maxBatchSize: flags.number("batch-size"),
    maxBatchTimeoutMs: flags.number("batch-timeout-ms"),
    maxConcurrency: flags.number("concurrency"),
    maxRetries: flags.number("max-retries"),
    retryDelayMs: flags.number("retry-delay-ms"),
    timeoutMs: flags.number("timeout-ms"),
    expression: sql ?? flags.string("tag"),
  };
  const req: PushSubscriptionRequest = { topic: flags.requiredString("topic"), target: targetOf(flags) };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(req, { [k]: v });
  if (sql !== undefined) req.expressionType = "SQL92";
  if (flags.bool("orderly")) req.orderly = true;
  if (flags.bool("paused")) req.paused = true;
  return req;
}

/** The subscription and its per-queue delivery state, as `push show` and `group progress` print it. */
export function pushProgressText(p: PushSubscriptionProgress): string {
  const s = p.subscription;
  const target = s.target.type === "webhook" ? s.target.url : `service ${s.target.binding} (${s.target.call ?? "fetch"})`;
  return [
    keyValues([
      ["push subscription", `${s.topic} → ${target}${s.paused ? " (paused)" : ""}`],
      ["filter", `${s.expressionType} ${s.expression}`],
      ["batch", `≤ ${s.maxBatchSize} messages, ≤ ${s.maxBatchTimeoutMs} ms, ${s.maxConcurrency} in flight per queue${s.orderly ? ", orderly" : ""}`],
      ["retries", `${s.maxRetries}, then %DLQ%${s.group}; delay ${s.retryDelayMs === null ? "the retry ladder" : `${s.retryDelayMs} ms`}`],
      ["lag", p.lag],
      ["retry backlog", p.retryBacklog],
      ["delivered", p.delivered],
      ["dead-lettered", p.deadLettered],
      ["last delivery", time(p.lastDeliveryAt)],
      ["last error", p.lastError ? `${time(p.lastError.at)} ${p.lastError.message}` : "-"],
    ]),
    table(
      ["BROKER", "QUEUE", "LAG", "RETRY_BACKLOG", "LAST_DELIVERY", "LAST_ERROR", "APPLIED"],
      p.queues.map((q) => [
        q.messageQueue.brokerName,
        q.messageQueue.queueId,
        q.lag ?? "-",
        q.retryBacklog ?? "-",
        time(q.lastDeliveryAt ?? null),
        q.lastError ? q.lastError.message : "-",
        q.applied ? "yes" : "no",
      ]),
    ),
  ].join("\n\n");
}

export const push: Noun = {
  summary: "push subscriptions: the server delivers a group's messages to a Worker or an HTTPS webhook",
  verbs: {
    set: {
      summary: "create or replace the group's push subscription (a new webhook's secret is printed once)",
      flags: setFlags,
      async run(ctx, flags) {
        const result = await ctx.admin.putPushSubscription(flags.requiredString("group"), requestOf(flags));
        const lines = [`push subscription of ${result.subscription.group} set (version ${result.subscription.version})`];
        if (result.secret) lines.push(`webhook signing secret (shown this once; store it where the receiver verifies): ${result.secret}`);
        return { data: result, text: lines.join("\n") };
      },
    },
    show: {
      summary: "the subscription, its lag, last delivery, last error and retry backlog per queue",
      flags: groupFlag,
      async run(ctx, flags) {
        const progress = await ctx.admin.getPushSubscription(flags.requiredString("group"));
        return { data: progress, text: pushProgressText(progress) };
      },
    },
    pause: {
      summary: "stop delivering until resumed (messages wait; lag grows)",
      flags: groupFlag,
      async run(ctx, flags) {
        const subscription = await ctx.admin.pausePushSubscription(flags.requiredString("group"));
        return { data: subscription, text: `push subscription of ${subscription.group} paused` };
      },
    },
    resume: {
      summary: "deliver again",
      flags: groupFlag,
      async run(ctx, flags) {
        const subscription = await ctx.admin.resumePushSubscription(flags.requiredString("group"));
        return { data: subscription, text: `push subscription of ${subscription.group} resumed` };
      },
    },
    delete: {
      summary: "delete the push subscription (the group's offsets stay)",
      flags: groupFlag,
      async run(ctx, flags) {
        const group = flags.requiredString("group");
        await ctx.admin.deletePushSubscription(group);
        return { data: { group, deleted: true }, text: `push subscription of ${group} deleted` };
      },
    },
  },
};
