/**
 * The Worker's environment, as both the edge and the objects see it.
 *
 * The bindings (one Durable Object namespace per object class) and the vars wrangler.toml sets
 * are `wrangler types` output: `Cloudflare.Env` in worker-configuration.d.ts at the top of the
 * repository, generated from wrangler.toml by `npm run types` and checked current by
 * `npm run types:check` (part of `npm test`). A binding added to wrangler.toml reaches the code
 * by regenerating, not by hand.
 *
 * `Vars` adds what the generated file cannot say: the vars wrangler.toml does not set (the
 * secret, and those only local runs and tests set), all optional, and a line on what each var
 * means. A var that wrangler.toml sets but `Vars` does not document fails the typecheck below,
 * naming it. Env stays assignable to `Cloudflare.Env`, the type `cloudflare:test` and the
 * DurableObject base class are written against.
 *
 * No import: the generated file names the object classes through workers/main.ts, at type level
 * only (erased by the build). check-imports excuses exactly that reference.
 */

/**
 * Every var, documented; all are strings parsed by `readConfig`. Optional here; those that
 * wrangler.toml sets are required in `Env`, through the generated type.
 */
export interface Vars {
  /** Secret: JSON array of accounts with their secret keys (wrangler secret put FLAREMQ_ACCOUNTS). */
  FLAREMQ_ACCOUNTS?: string;
  /** NameServer instances (comma-separated names); writes go to all, reads fail over. */
  NAMESRV_INSTANCES?: string;
  /**
   * Local runs only (the local runner and `npm run dev` set it; never wrangler.toml): "true"
   * serves a server without accounts, unauthenticated, to loopback hostnames. Without it a
   * Worker with no account answers 503 AUTH_NOT_CONFIGURED.
   */
  ALLOW_UNAUTHENTICATED_LOCAL?: string;
  /** Comma-separated broker names (shards), e.g. "broker-a,broker-b". */
  BROKERS?: string;
  CLUSTER_NAME?: string;
  /** "true" lets the first send to an unknown topic create it. */
  AUTO_CREATE_TOPIC_ENABLE?: string;
  /** Queues per broker for auto-created topics and for creates that do not say. */
  DEFAULT_TOPIC_QUEUE_NUMS?: string;
  /** How long the worker trusts a cached route before asking the NameServer object again. */
  ROUTE_CACHE_TTL_MS?: string;
  /** Delay levels in RocketMQ's messageDelayLevel format ("1s 5s 10s ... 2h"). */
  MESSAGE_DELAY_LEVEL?: string;
  /** Furthest a deliverTimeMs may lie in the future; default 7 days. */
  TIMER_MAX_DELAY_MS?: string;
  /** Age before a pending half message is first checked; default 6000. */
  TRANSACTION_TIMEOUT_MS?: string;
  /** Time between checks of the same half message; default 60000. */
  TRANSACTION_CHECK_INTERVAL_MS?: string;
  /** Alibaba Cloud HTTP door: a consumed message's invisible time (its NextConsumeTime); 10000–43200000, default 300000. */
  ALIYUN_INVISIBLE_MS?: string;
  /** Alibaba Cloud HTTP door: the same for orderly consumption (`trans=order`); default 60000. */
  ALIYUN_ORDERLY_INVISIBLE_MS?: string;
  /** Messages older than this are deleted (RocketMQ fileReservedTime); default 72 h; 0 keeps them forever. */
  FILE_RESERVED_TIME_MS?: string;
  /** Broker registration interval with every NameServer; 10000–60000, default 30000. */
  BROKER_HEARTBEAT_INTERVAL_MS?: string;
  /** A broker not heard from for this long leaves the routes; default 120000. */
  BROKER_EXPIRY_MS?: string;
  /** ASYNC_MASTER (default) or SYNC_MASTER. */
  BROKER_ROLE?: string;
  /** Slaves per broker name; default 0, at most 4. */
  BROKER_SLAVES?: string;
  /** Location hint for slave queue objects (e.g. "weur"), so a broker survives the loss of a location. */
  SLAVE_LOCATION_HINT?: string;
  /** SYNC_MASTER: wait for a slave at most this long; default 5000. */
  SYNC_FLUSH_SLAVE_TIMEOUT_MS?: string;
  /** ASYNC_MASTER: 0 (default) pushes to the slave right after each durable write, coalescing while a push is in flight; above 0, one push per queue per this window, from the alarm. */
  ASYNC_REPLICATION_DELAY_MS?: string;
  /** "true": a master suggests a slave to consumers far behind (RocketMQ slaveReadEnable). */
  SLAVE_READ_ENABLE?: string;
  /** How far behind (messages) a consumer is sent to a slave; default 10000. */
  SLAVE_READ_BEHIND_MESSAGES?: string;
  /** Test configuration only: enables /_test/faults, /_test/activity with the benchmark's billing meters, and shorter broker timers. Never set in production. */
  TEST_FAULTS_ENABLED?: string;
  /** Checks before an undecided half message is rolled back; default 15. */
  TRANSACTION_CHECK_MAX?: string;
  /**
   * Comma-separated service bindings (wrangler.toml [[services]]) that push subscriptions may
   * deliver to, e.g. "ORDERS_CONSUMER". A subscription naming any other binding is refused; the
   * object bindings (QUEUE, ACCOUNTS, ...) can never be targets. Default none.
   */
  PUSH_SERVICE_BINDINGS?: string;
  /** Local runs only (the local runner sets it; never wrangler.toml): "true" lets push webhooks use http:// to loopback. */
  PUSH_LOOPBACK_WEBHOOKS?: string;
  /**
   * "true": log one line per request (method, path, status, ms, request id); `npm start -- --log
   * requests` sets it. 5xx answers are logged either way. Default off (Workers Logs has them).
   */
  LOG_REQUESTS?: string;
  /**
   * Push subscriptions the Worker applies at start (idempotently, by content): a JSON array of
   * `{ "group": ..., ...PUT /groups/{group}/push-subscription body }`, service targets only
   * (a webhook needs its secret shown, so it is created through the API). Default none.
   */
  PUSH_SUBSCRIPTIONS?: string;
}

/** Bindings and vars: the generated environment, with every var documented by `Vars`. */
export type Env = Cloudflare.Env & Vars;

/** The string-valued keys (the vars) of a generated environment. */
type VarNames<T> = { [K in keyof T]-?: T[K] extends string | undefined ? K : never }[keyof T];
/** Compiles only when T is never; the error names what T holds. */
type MustBeNever<T extends never> = T;
/** A var of wrangler.toml missing from `Vars` fails here, by name. */
type _EveryVarDocumented = MustBeNever<Exclude<VarNames<Cloudflare.Env>, keyof Vars>>;
