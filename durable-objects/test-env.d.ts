// Types the `env` of "cloudflare:test" as this Worker's bindings, for tests inside workerd.
declare namespace Cloudflare {
  interface Env {
    QUEUE: DurableObjectNamespace<import("./queue.js").QueueDO>;
    NAMESRV: DurableObjectNamespace<import("./namesrv.js").NameServerDO>;
    PRODUCER_GROUP: DurableObjectNamespace<import("./producer-group.js").ProducerGroupDO>;
    CONSUMER_GROUP: DurableObjectNamespace<import("./consumer-group.js").ConsumerGroupDO>;
    ACCOUNTS: DurableObjectNamespace<import("./accounts.js").AccountsDO>;
    BROKER: DurableObjectNamespace<import("./broker.js").BrokerDO>;
    REPLAY_GUARD: DurableObjectNamespace<import("./replay-guard.js").ReplayGuardDO>;
  }
}
