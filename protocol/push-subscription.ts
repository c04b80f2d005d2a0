/**
 * Push subscriptions (issue 15, part 2): a consumer group whose messages the server delivers in
 * batches to a target, with no client process: a Worker reached through a service binding, or
 * an HTTPS webhook whose requests are signed (push-signature.ts). The settings are Cloudflare
 * Queues' consumer settings (max_batch_size, max_batch_timeout, max_concurrency, max_retries,
 * retry_delay) in this project's units; the schema is the wire contract of the API, the CLI and
 * the PUSH_SUBSCRIPTIONS var alike. What the target receives and answers is defined here too.
 */
import { z } from "zod";
import { Limits } from "./limits.js";
import type { MessageExtWire, MessageQueue } from "./message.js";
import { DEFAULT_MAX_RECONSUME_TIMES } from "./retry-ladder.js";

/** A binding name as wrangler.toml spells it. */
const bindingName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "a binding name as declared in wrangler.toml");

export const PushTargetSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("service"),
    /** The service binding (wrangler.toml [[services]]), one of those PUSH_SERVICE_BINDINGS allows. */
    binding: bindingName,
    /**
     * How the Worker is called: "fetch" POSTs the batch as JSON to its fetch handler; "rpc" calls
     * its entrypoint's `deliver(batch)` method. Default "fetch".
     */
    call: z.enum(["fetch", "rpc"]).optional(),
  }),
  z.strictObject({
    type: z.literal("webhook"),
    /** https:// URL (http:// only to a loopback address of a local server); signed requests are POSTed there. */
    url: z.string().min(1).max(2048),
  }),
]);
export type PushTarget = z.infer<typeof PushTargetSchema>;

/** The settings, each optional with its default. */
export const PushSettingsSchema = z.strictObject({
  /** Most messages in one batch, 1–100; default 10 (as Cloudflare Queues). */
  maxBatchSize: z.number().int().min(1).max(Limits.maxPushBatchSize).optional(),
  /** Longest a message waits for its batch to fill, 0–60000 ms; default 5000 (as Cloudflare Queues). */
  maxBatchTimeoutMs: z.number().int().min(0).max(Limits.maxPushBatchTimeoutMs).optional(),
  /** Batches in flight at once per queue, 1–10; default 1. An orderly subscription always has 1. */
  maxConcurrency: z.number().int().min(1).max(Limits.maxPushConcurrency).optional(),
  /** Failed deliveries retried before a message goes to %DLQ%<group>; default the group's maxReconsumeTimes (16). */
  maxRetries: z.number().int().min(0).max(10_000).optional(),
  /** Fixed wait before a failed message is delivered again; default the retry ladder (level 3 + reconsumeTimes: 10 s, 30 s, 1 m, ...). */
  retryDelayMs: z.number().int().min(0).max(Limits.maxPushRetryDelayMs).optional(),
  /** Longest the target may take to answer a batch; default 30000. */
  timeoutMs: z.number().int().min(1000).max(Limits.maxPushTimeoutMs).optional(),
});
export type PushSettings = z.infer<typeof PushSettingsSchema>;

/** PUT /groups/{group}/push-subscription: the whole subscription (a PUT replaces it). */
export const PushSubscriptionRequestSchema = PushSettingsSchema.extend({
  topic: z.string().min(1).max(Limits.maxTopicLength),
  expressionType: z.enum(["TAG", "SQL92"]).optional(),
  expression: z.string().max(Limits.maxExpressionLength).optional(),
  /** One batch at a time per queue, in offset order; a failed message holds its queue until it is delivered or dead-lettered. Default false. */
  orderly: z.boolean().optional(),
  target: PushTargetSchema,
  /** Created paused: nothing is delivered until resumed. Default false. */
  paused: z.boolean().optional(),
  /** The group's maxReconsumeTimes, used when maxRetries is not set; default 16. */
  maxReconsumeTimes: z.number().int().min(0).max(10_000).optional(),
});
export type PushSubscriptionRequest = z.infer<typeof PushSubscriptionRequestSchema>;

/** POST /groups/{group}/push-subscription/pause|resume have no body; this is the state they set. */
export const PushPauseSchema = z.strictObject({ paused: z.boolean() });

export const DEFAULT_PUSH_MAX_BATCH_SIZE = 10;
export const DEFAULT_PUSH_MAX_BATCH_TIMEOUT_MS = 5000;
export const DEFAULT_PUSH_MAX_CONCURRENCY = 1;
export const DEFAULT_PUSH_TIMEOUT_MS = 30_000;

/**
 * A subscription with every default applied, as the server stores it and the queues deliver
 * it. A webhook's `secret` is stored with it and never answered after creation.
 */
export interface PushSubscriptionConfig {
  group: string;
  topic: string;
  expressionType: "TAG" | "SQL92";
  expression: string;
  orderly: boolean;
  target: PushTarget;
  /** The webhook's signing secret (webhooks only). */
  secret?: string;
  maxBatchSize: number;
  maxBatchTimeoutMs: number;
  maxConcurrency: number;
  maxRetries: number;
  /** null: the retry ladder. */
  retryDelayMs: number | null;
  timeoutMs: number;
  paused: boolean;
  /** Changes with every PUT, pause and resume, so a queue keeps the newest it was told. */
  version: number;
}

/** What the API answers about a subscription: the config without its secret. */
export type PushSubscriptionInfo = Omit<PushSubscriptionConfig, "secret">;

/**
 * What a target receives: one batch of one queue, in offset order. Each message's
 * `reconsumeTimes` is how many times it was delivered and failed before this delivery.
 */
export interface PushBatch {
  group: string;
  topic: string;
  queue: MessageQueue;
  messages: MessageExtWire[];
}

/**
 * What a target may answer (a 2xx body, or an RPC's return value): the msgIds to retry; every
 * other message of the batch succeeded. An empty answer means all succeeded.
 */
export const PushAnswerSchema = z.object({ retry: z.array(z.string()).max(Limits.maxPushBatchSize).optional() });
export type PushAnswer = z.infer<typeof PushAnswerSchema>;

/** The subscription as stored, defaults applied, from a validated request. */
export function pushConfigFrom(group: string, req: PushSubscriptionRequest, version: number, secret?: string): PushSubscriptionConfig {
  return {
    group,
    topic: req.topic,
    expressionType: req.expressionType ?? "TAG",
    expression: req.expression ?? "*",
    orderly: req.orderly === true,
    target: req.target,
    ...(secret === undefined ? {} : { secret }),
    maxBatchSize: req.maxBatchSize ?? DEFAULT_PUSH_MAX_BATCH_SIZE,
    maxBatchTimeoutMs: req.maxBatchTimeoutMs ?? DEFAULT_PUSH_MAX_BATCH_TIMEOUT_MS,
    maxConcurrency: req.orderly === true ? 1 : (req.maxConcurrency ?? DEFAULT_PUSH_MAX_CONCURRENCY),
    maxRetries: req.maxRetries ?? req.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES,
    retryDelayMs: req.retryDelayMs ?? null,
    timeoutMs: req.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS,
    paused: req.paused === true,
    version,
  };
}

/** The config without its secret (what is answered after creation). */
export function pushInfoOf(config: PushSubscriptionConfig): PushSubscriptionInfo {
  const { secret: _secret, ...info } = config;
  return info;
}

/** Where a push subscription stands on one queue (GET /groups/{group}/push-subscription). */
export interface PushQueueProgress {
  messageQueue: MessageQueue;
  /** Whether the queue holds the subscription's current settings (false: not applied there yet). */
  applied: boolean;
  lag?: number;
  consumerOffset?: number;
  brokerOffset?: number;
  retryBacklog?: number;
  nextRetryAt?: number | null;
  /** Throttled (429/503) or failing: nothing goes out of this queue before then. */
  backoffUntil?: number | null;
  lastDeliveryAt?: number | null;
  lastError?: { at: number; message: string } | null;
  delivered?: number;
  deadLettered?: number;
}

/** A push subscription with its progress: per queue, and over all its queues. */
export interface PushSubscriptionProgress {
  subscription: PushSubscriptionInfo;
  queues: PushQueueProgress[];
  lag: number;
  retryBacklog: number;
  delivered: number;
  deadLettered: number;
  lastDeliveryAt: number | null;
  lastError: { at: number; message: string } | null;
}
