/**
 * Per-key limits on expensive operations, checked at the edge: a token bucket for queries
 * (fan-outs over every queue of a topic) and a cap on concurrent long polls. The key is the
 * account, or the client address when no account is configured. Limits are per Worker
 * isolate: they stop a single client from monopolising an isolate, not a distributed flood.
 * Runs after the auth middleware, which names the operation and the account.
 */
import type { MiddlewareHandler } from "hono";
import { MQError } from "../../protocol/errors.js";
import type { AppEnv } from "./app-env.js";

export const RateLimits = {
  /** Query operations per second per key, and the burst allowed. */
  queryPerSec: 50,
  queryBurst: 200,
  /** Long polls held open at once per key. */
  maxConcurrentPolls: 512,
} as const;

const buckets = new Map<string, { tokens: number; at: number }>();
const polls = new Map<string, number>();

function takeToken(key: string, now: number): number {
  const b = buckets.get(key) ?? { tokens: RateLimits.queryBurst, at: now };
  b.tokens = Math.min(RateLimits.queryBurst, b.tokens + ((now - b.at) / 1000) * RateLimits.queryPerSec);
  b.at = now;
  if (buckets.size > 50_000) buckets.clear();
  buckets.set(key, b);
  if (b.tokens < 1) return Math.ceil(((1 - b.tokens) / RateLimits.queryPerSec) * 1000);
  b.tokens -= 1;
  return 0;
}

export const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const kind = c.get("operation")?.cost;
  if (!kind) return next();
  const key = c.get("account")?.accessKey ?? c.req.header("cf-connecting-ip") ?? "local";
  if (kind === "query") {
    const waitMs = takeToken(key, Date.now());
    if (waitMs > 0) {
      c.header("retry-after", String(Math.ceil(waitMs / 1000)));
      throw new MQError("RATE_LIMITED", `more than ${RateLimits.queryPerSec} queries per second; retry in ${waitMs} ms`);
    }
    return next();
  }
  let release: () => void;
  try {
    release = takePollSlot(key);
  } catch (e) {
    c.header("retry-after", "1");
    throw e;
  }
  try {
    await next();
  } finally {
    release();
  }
};

/** Takes one of the key's long-poll places (RATE_LIMITED when all are taken); call the answer to give it back. */
function takePollSlot(key: string): () => void {
  const open = polls.get(key) ?? 0;
  if (open >= RateLimits.maxConcurrentPolls) throw new MQError("RATE_LIMITED", `more than ${RateLimits.maxConcurrentPolls} long polls open at once`);
  polls.set(key, open + 1);
  return () => {
    const left = (polls.get(key) ?? 1) - 1;
    if (left <= 0) polls.delete(key);
    else polls.set(key, left);
  };
}

/**
 * Runs a long poll in one of the key's places: the HTTP long polls above and the Workers RPC
 * receive (workers/rpc/) share the cap of an account.
 */
export async function withPollSlot<T>(key: string, poll: () => Promise<T>): Promise<T> {
  const release = takePollSlot(key);
  try {
    return await poll();
  } finally {
    release();
  }
}
