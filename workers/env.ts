import type { NameServerDO } from "../durable-objects/namesrv.js";
import type { QueueDO } from "../durable-objects/queue.js";

/** Bindings and vars from wrangler.toml; vars are strings and are parsed by `readConfig`. */
export interface Env {
  QUEUE: DurableObjectNamespace<QueueDO>;
  NAMESRV: DurableObjectNamespace<NameServerDO>;
  /** Comma-separated broker names (shards), e.g. "broker-a,broker-b". */
  BROKERS?: string;
  CLUSTER_NAME?: string;
  /** "true" lets the first send to an unknown topic create it. */
  AUTO_CREATE_TOPIC_ENABLE?: string;
  /** Queues per broker for auto-created topics and for creates that do not say. */
  DEFAULT_TOPIC_QUEUE_NUMS?: string;
  /** How long the worker trusts a cached route before asking the NameServer object again. */
  ROUTE_CACHE_TTL_MS?: string;
}
