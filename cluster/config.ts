/** Deployment configuration read from wrangler.toml vars, validated once per isolate. */
import { DEFAULT_DELAY_LEVELS, parseDelayLevels } from "../protocol/delay-levels.js";
import { Limits } from "../protocol/limits.js";
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
  /** Alibaba Cloud HTTP door: invisible time of a consumed message, and of one consumed orderly. */
  aliyunInvisibleMs: number;
  aliyunOrderlyInvisibleMs: number;
  /** Retention; 0 keeps messages forever. */
  fileReservedTimeMs: number;
  /** How often a broker registers its topic table with every NameServer (RocketMQ: 30 s, 10–60 s). */
  brokerHeartbeatIntervalMs: number;
  /** A NameServer drops a broker it has not heard from for this long (RocketMQ: 120 s). */
  brokerExpiryMs: number;
  /** Role of every master: ASYNC_MASTER answers after its own durable write, SYNC_MASTER after a slave's too. */
  brokerRole: MasterRole;
  /** Slaves per broker name (brokerId 1..n); each is its own set of queue objects. */
  slavesPerBroker: number;
  /** Durable Object location hint for slave queue objects ("" lets Cloudflare place them). */
  slaveLocationHint: string;
  /** SYNC_MASTER: how long a send waits for a slave before answering FLUSH_SLAVE_TIMEOUT. */
  syncFlushSlaveTimeoutMs: number;
  /** ASYNC_MASTER: appends gathered this long before one replication call carries them. */
  asyncReplicationDelayMs: number;
  /** Masters suggest reading from a slave to consumers this many messages behind (slaveReadEnable). */
  slaveReadEnable: boolean;
  slaveReadBehindMessages: number;
  /** Test configuration only: faults can be injected and timers may go below their production floors. */
  testFaultsEnabled: boolean;
  /**
   * Service bindings push subscriptions may target (PUSH_SERVICE_BINDINGS), each with the groups
   * that may use it (null: any group); no other binding is ever called.
   */
  pushServiceBindings: ReadonlyMap<string, readonly string[] | null>;
  /** Local runs only: push webhooks may use http:// to a loopback address (PUSH_LOOPBACK_WEBHOOKS). */
  pushLoopbackWebhooks: boolean;
}

export type MasterRole = "ASYNC_MASTER" | "SYNC_MASTER";

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
    aliyunInvisibleMs: invisibleVar("ALIYUN_INVISIBLE_MS", env.ALIYUN_INVISIBLE_MS, 300_000),
    aliyunOrderlyInvisibleMs: invisibleVar("ALIYUN_ORDERLY_INVISIBLE_MS", env.ALIYUN_ORDERLY_INVISIBLE_MS, 60_000),
    fileReservedTimeMs: intVar(env.FILE_RESERVED_TIME_MS, 72 * 3600 * 1000),
    brokerHeartbeatIntervalMs: 0,
    brokerExpiryMs: 0,
    brokerRole: masterRole(env.BROKER_ROLE),
    slavesPerBroker: slaves(env.BROKER_SLAVES),
    slaveLocationHint: locationHint(env.SLAVE_LOCATION_HINT),
    // Below the client's default send timeout (3 s), so a slow slave is reported as
    // FLUSH_SLAVE_TIMEOUT rather than as a client TIMEOUT that invites a duplicate retry.
    syncFlushSlaveTimeoutMs: Math.max(1, intVar(env.SYNC_FLUSH_SLAVE_TIMEOUT_MS, 2000)),
    asyncReplicationDelayMs: intVar(env.ASYNC_REPLICATION_DELAY_MS, 0),
    slaveReadEnable: env.SLAVE_READ_ENABLE === "true",
    slaveReadBehindMessages: intVar(env.SLAVE_READ_BEHIND_MESSAGES, 10_000),
    testFaultsEnabled: env.TEST_FAULTS_ENABLED === "true",
    pushServiceBindings: parseServiceBindings(env.PUSH_SERVICE_BINDINGS),
    pushLoopbackWebhooks: env.PUSH_LOOPBACK_WEBHOOKS === "true",
  };
  // RocketMQ bounds the registration interval to 10–60 s; tests shorten it (and the expiry)
  // only under the test configuration, so a production deploy cannot set a flapping value.
  const heartbeat = intVar(env.BROKER_HEARTBEAT_INTERVAL_MS, 30_000);
  const expiry = intVar(env.BROKER_EXPIRY_MS, 120_000);
  config.brokerHeartbeatIntervalMs = config.testFaultsEnabled ? Math.max(50, heartbeat) : Math.min(60_000, Math.max(10_000, heartbeat));
  config.brokerExpiryMs = config.testFaultsEnabled ? Math.max(100, expiry) : Math.max(expiry, 2 * config.brokerHeartbeatIntervalMs);
  cache.set(env, config);
  return config;
}

/**
 * PUSH_SERVICE_BINDINGS: "BINDING" (any group may target it) or "BINDING=group1|group2" (only
 * those groups), comma-separated.
 */
export function parseServiceBindings(value: string | undefined): ReadonlyMap<string, readonly string[] | null> {
  const map = new Map<string, readonly string[] | null>();
  for (const item of (value ?? "").split(",")) {
    const [name = "", groups] = item.split("=", 2).map((p) => p.trim());
    if (!name) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`PUSH_SERVICE_BINDINGS names an invalid binding: "${name}"`);
    map.set(
      name,
      groups === undefined
        ? null
        : groups
            .split("|")
            .map((g) => g.trim())
            .filter((g) => g.length > 0),
    );
  }
  return map;
}

/** Whether `group`'s push subscription may deliver through the service binding `binding`. */
export function pushBindingAllowed(config: Config, binding: string, group: string): boolean {
  if (!config.pushServiceBindings.has(binding)) return false;
  const groups = config.pushServiceBindings.get(binding);
  return groups === null || groups === undefined || groups.includes(group);
}

function intVar(value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a non-negative integer, got "${value}"`);
  return n;
}

/** An invisible duration within the SimpleConsumer's bounds (10 s – 12 h), which the door receives with. */
function invisibleVar(name: string, value: string | undefined, fallback: number): number {
  const n = intVar(value, fallback);
  if (n < Limits.minInvisibleDurationMs || n > Limits.maxInvisibleDurationMs)
    throw new Error(`${name} must be ${Limits.minInvisibleDurationMs}-${Limits.maxInvisibleDurationMs} ms, got "${value}"`);
  return n;
}

function slaves(value: string | undefined): number {
  const n = intVar(value, 0);
  if (n > 4) throw new Error(`BROKER_SLAVES is at most 4, got "${value}"`);
  return n;
}

function masterRole(value: string | undefined): MasterRole {
  if (value === undefined || value === "" || value === "ASYNC_MASTER") return "ASYNC_MASTER";
  if (value === "SYNC_MASTER") return "SYNC_MASTER";
  throw new Error(`BROKER_ROLE must be ASYNC_MASTER or SYNC_MASTER, got "${value}"`);
}

/** Cloudflare's Durable Object location hints; a typo would silently place slaves anywhere. */
const LOCATION_HINTS: ReadonlySet<string> = new Set(["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"]);

function locationHint(value: string | undefined): string {
  if (value === undefined || value === "") return "";
  if (!LOCATION_HINTS.has(value)) throw new Error(`SLAVE_LOCATION_HINT must be one of ${[...LOCATION_HINTS].join(", ")}, got "${value}"`);
  return value;
}
