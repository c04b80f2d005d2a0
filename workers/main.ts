/**
 * Worker entry: the HTTP app, the Workers RPC entrypoint `FlareMQ` (bound by other Workers with
 * a service binding: workers/rpc/entrypoint.ts) and every Durable Object class, bound in wrangler.toml.
 */
import { app } from "./app.js";

export { FlareMQ } from "./rpc/entrypoint.js";
export { QueueDO } from "../durable-objects/queue.js";
export { NameServerDO } from "../durable-objects/namesrv.js";
export { ProducerGroupDO } from "../durable-objects/producer-group.js";
export { ConsumerGroupDO } from "../durable-objects/consumer-group.js";
export { AccountsDO } from "../durable-objects/accounts.js";
export { BrokerDO } from "../durable-objects/broker.js";
export { ReplayGuardDO } from "../durable-objects/replay-guard.js";

export default app;
