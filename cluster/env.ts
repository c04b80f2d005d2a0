/**
 * The Worker's bindings and vars, as both the edge and the objects see them. Hand-written, not
 * `wrangler types` output: that runs here, but leaves out the secret and the vars only tests
 * and local runs set (with the docs below), makes every wrangler.toml var required (literal
 * values unless --strict-vars=false), and names the classes through workers/main.ts, the top
 * layer, which would tie this file to the whole edge. The classes are named
 * with `import type` only (erased by the build, so no object module loads with this file);
 * check-imports excuses exactly these edges, the one type-level cycle left.
 */
import type { BrokerDO } from "../durable-objects/broker.js";
import type { AccountsDO } from "../durable-objects/accounts.js";
import type { ConsumerGroupDO } from "../durable-objects/consumer-group.js";
import type { NameServerDO } from "../durable-objects/namesrv.js";
import type { ProducerGroupDO } from "../durable-objects/producer-group.js";
import type { QueueDO } from "../durable-objects/queue.js";
import type { ReplayGuardDO } from "../durable-objects/replay-guard.js";

/** Bindings and vars from wrangler.toml; vars are strings and are parsed by `readConfig`. */
export interface Env {
  QUEUE: DurableObjectNamespace<QueueDO>;
  NAMESRV: DurableObjectNamespace<NameServerDO>;
  PRODUCER_GROUP: DurableObjectNamespace<ProducerGroupDO>;
  CONSUMER_GROUP: DurableObjectNamespace<ConsumerGroupDO>;
  ACCOUNTS: DurableObjectNamespace<AccountsDO>;
  BROKER: DurableObjectNamespace<BrokerDO>;
  /** One object per access key: the nonces of its signed requests (replay protection). */
  REPLAY_GUARD: DurableObjectNamespace<ReplayGuardDO>;
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
  /** ASYNC_MASTER: replication batching delay; default 50. */
  ASYNC_REPLICATION_DELAY_MS?: string;
  /** "true": a master suggests a slave to consumers far behind (RocketMQ slaveReadEnable). */
  SLAVE_READ_ENABLE?: string;
  /** How far behind (messages) a consumer is sent to a slave; default 10000. */
  SLAVE_READ_BEHIND_MESSAGES?: string;
  /** Test configuration only: enables /_test/faults and shorter broker timers. Never set in production. */
  TEST_FAULTS_ENABLED?: string;
  /** Checks before an undecided half message is rolled back; default 15. */
  TRANSACTION_CHECK_MAX?: string;
}
