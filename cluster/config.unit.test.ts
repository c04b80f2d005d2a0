import { describe, expect, it } from "vitest";
import { pushBindingAllowed, readConfig } from "./config.js";
import type { Env } from "./env.js";

const env = (vars: Partial<Env>) => vars as Env;

describe("readConfig: brokers and replication", () => {
  it("keeps RocketMQ's defaults: 30 s heartbeat, 120 s expiry, ASYNC_MASTER, no slaves", () => {
    const c = readConfig(env({}));
    expect([c.brokerHeartbeatIntervalMs, c.brokerExpiryMs, c.brokerRole, c.slavesPerBroker]).toEqual([30_000, 120_000, "ASYNC_MASTER", 0]);
  });

  it("bounds the heartbeat to 10-60 s and the expiry to two heartbeats outside the test configuration", () => {
    const c = readConfig(env({ BROKER_HEARTBEAT_INTERVAL_MS: "200", BROKER_EXPIRY_MS: "1000" }));
    expect([c.brokerHeartbeatIntervalMs, c.brokerExpiryMs]).toEqual([10_000, 20_000]);
    expect(readConfig(env({ BROKER_HEARTBEAT_INTERVAL_MS: "90000" })).brokerHeartbeatIntervalMs).toBe(60_000);
  });

  it("lets the test configuration shorten both", () => {
    const c = readConfig(env({ TEST_FAULTS_ENABLED: "true", BROKER_HEARTBEAT_INTERVAL_MS: "200", BROKER_EXPIRY_MS: "1500" }));
    expect([c.brokerHeartbeatIntervalMs, c.brokerExpiryMs, c.testFaultsEnabled]).toEqual([200, 1500, true]);
  });

  it("takes a known location hint for slaves and refuses a typo", () => {
    expect(readConfig(env({ SLAVE_LOCATION_HINT: "weur" })).slaveLocationHint).toBe("weur");
    expect(() => readConfig(env({ SLAVE_LOCATION_HINT: "europe" }))).toThrow("SLAVE_LOCATION_HINT");
  });

  it("refuses an unknown role and more than 4 slaves", () => {
    expect(() => readConfig(env({ BROKER_ROLE: "SLAVE" }))).toThrow("BROKER_ROLE");
    expect(() => readConfig(env({ BROKER_SLAVES: "9" }))).toThrow("BROKER_SLAVES");
    expect(readConfig(env({ BROKER_ROLE: "SYNC_MASTER", BROKER_SLAVES: "4" })).slavesPerBroker).toBe(4);
  });
});

describe("readConfig: push subscription targets", () => {
  it("allows no service binding unless PUSH_SERVICE_BINDINGS lists it, for any group or the groups named", () => {
    expect(pushBindingAllowed(readConfig(env({})), "QUEUE", "g")).toBe(false);
    const c = readConfig(env({ PUSH_SERVICE_BINDINGS: " ORDERS = orders-push | audit , BILLING" }));
    expect(pushBindingAllowed(c, "BILLING", "anyone")).toBe(true);
    expect(pushBindingAllowed(c, "ORDERS", "orders-push")).toBe(true);
    expect(pushBindingAllowed(c, "ORDERS", "audit")).toBe(true);
    expect(pushBindingAllowed(c, "ORDERS", "other")).toBe(false);
    expect(pushBindingAllowed(c, "QUEUE", "orders-push")).toBe(false);
  });

  it("refuses a binding name that cannot be one", () => {
    expect(() => readConfig(env({ PUSH_SERVICE_BINDINGS: "BAD-NAME" }))).toThrow(/PUSH_SERVICE_BINDINGS/);
  });

  it("allows loopback webhooks only when the local runner says so", () => {
    expect(readConfig(env({})).pushLoopbackWebhooks).toBe(false);
    expect(readConfig(env({ PUSH_LOOPBACK_WEBHOOKS: "true" })).pushLoopbackWebhooks).toBe(true);
  });
});

describe("readConfig: the Alibaba Cloud HTTP door", () => {
  it("defaults to the protocol's 300 s and 60 s invisible times, within the SimpleConsumer's 10 s - 12 h", () => {
    const c = readConfig(env({}));
    expect([c.aliyunInvisibleMs, c.aliyunOrderlyInvisibleMs]).toEqual([300_000, 60_000]);
    expect(readConfig(env({ ALIYUN_INVISIBLE_MS: "10000" })).aliyunInvisibleMs).toBe(10_000);
    expect(() => readConfig(env({ ALIYUN_INVISIBLE_MS: "9999" }))).toThrow("ALIYUN_INVISIBLE_MS");
    expect(() => readConfig(env({ ALIYUN_ORDERLY_INVISIBLE_MS: "43200001" }))).toThrow("ALIYUN_ORDERLY_INVISIBLE_MS");
  });
});
