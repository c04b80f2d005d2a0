/** Deployment configuration read from wrangler.toml vars, validated once per isolate. */
import { DEFAULT_DELAY_LEVELS, parseDelayLevels } from "../protocol/delay-levels.js";
import { isValidBrokerName } from "../protocol/names.js";
import type { Env } from "./env.js";

export interface Config {
  clusterName: string;
  brokers: readonly string[];
  autoCreateTopicEnable: boolean;
  defaultTopicQueueNums: number;
  routeCacheTtlMs: number;
  /** Milliseconds per delay level; index 0 is level 1. */
  delayLevelsMs: readonly number[];
  timerMaxDelayMs: number;
  transactionTimeoutMs: number;
  transactionCheckIntervalMs: number;
  transactionCheckMax: number;
  /** Retention; 0 keeps messages forever. */
  fileReservedTimeMs: number;
}

const cache = new WeakMap<object, Config>();

export function readConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const brokers = (env.BROKERS ?? "broker-a,broker-b")
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  const bad = brokers.find((b) => !isValidBrokerName(b));
  // A misconfigured deployment should fail loudly at the first request, not route wrongly.
  if (brokers.length === 0 || bad !== undefined) throw new Error(`BROKERS is invalid: "${env.BROKERS ?? ""}"`);
  const config: Config = {
    clusterName: env.CLUSTER_NAME ?? "DefaultCluster",
    brokers,
    autoCreateTopicEnable: env.AUTO_CREATE_TOPIC_ENABLE === "true",
    defaultTopicQueueNums: intVar(env.DEFAULT_TOPIC_QUEUE_NUMS, 4),
    routeCacheTtlMs: intVar(env.ROUTE_CACHE_TTL_MS, 3000),
    delayLevelsMs: parseDelayLevels(env.MESSAGE_DELAY_LEVEL ?? DEFAULT_DELAY_LEVELS),
    timerMaxDelayMs: intVar(env.TIMER_MAX_DELAY_MS, 7 * 24 * 3600 * 1000),
    transactionTimeoutMs: intVar(env.TRANSACTION_TIMEOUT_MS, 6000),
    transactionCheckIntervalMs: Math.max(1, intVar(env.TRANSACTION_CHECK_INTERVAL_MS, 60_000)),
    transactionCheckMax: intVar(env.TRANSACTION_CHECK_MAX, 15),
    fileReservedTimeMs: intVar(env.FILE_RESERVED_TIME_MS, 72 * 3600 * 1000),
  };
  cache.set(env, config);
  return config;
}

function intVar(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${value}"`);
  return n;
}
