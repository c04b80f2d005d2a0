/**
 * Broker: one object per broker name. It owns the broker's topic config table (the source of
 * truth, as in RocketMQ) and its permission, and registers them with every NameServer
 * instance on an alarm every BROKER_HEARTBEAT_INTERVAL_MS, and at once when they change.
 * A broker that stops registering leaves the routes after BROKER_EXPIRY_MS.
 * The queues themselves are QueueDOs; this object holds no messages.
 */
import { DurableObject } from "cloudflare:workers";
import { toRpcError } from "../cluster/rpc-errors.js";
import { Perm, type BrokerRegistration, type BrokerRole, type BrokerTopicConfig } from "../protocol/route.js";
import { readConfig } from "../cluster/config.js";
import type { Env } from "../cluster/env.js";
import { nameServerStubs, readNameServer } from "../cluster/nameservers.js";
import { brokerStub } from "../cluster/stubs.js";
import type { TopicWriteMode } from "../cluster/topic-registry.js";
import { withTimeout } from "./shared/timeout.js";
import { applyMigrations } from "./shared/migrate.js";
import { TOPIC_ROW_COLUMNS, mergeQueues, toTopicConfig, topicRowValues, type TopicQueues, type TopicQueuesInput, type TopicRow } from "./topic-row.js";

export interface BrokerState {
  brokerName: string;
  brokerIds: Record<string, BrokerRole>;
  /** RocketMQ's brokerPermission: a broker without WRITE is drained. */
  permission: number;
  dataVersion: number;
  topicCount: number;
  /** Per NameServer instance: when it last took a registration, and the last error if any. */
  registrations: Record<string, { lastOkAt: number | null; lastError: string | null }>;
}

const MIGRATIONS: readonly string[] = [
  // v1: the layout before versions existed.
  `CREATE TABLE IF NOT EXISTS broker_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS topic_config (
     topic TEXT PRIMARY KEY,
     read_queue_nums INTEGER NOT NULL,
     write_queue_nums INTEGER NOT NULL,
     perm INTEGER NOT NULL,
     topic_sys_flag INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
];

/** After a failed registration the next try comes this soon, not a whole interval later. */
const RETRY_AFTER_FAILURE_MS = 1000;
/** A NameServer that has not answered by then counts as failed, so one hung instance never stops the heartbeat to the others. */
const REGISTER_TIMEOUT_MS = 5000;

/** A copy of the master's table and permission that a slave member registers on its own. */
export interface BrokerTableCopy {
  brokerName: string;
  brokerId: number;
  incarnation: number;
  topics: BrokerTopicConfig[];
  permission: number;
  dataVersion: number;
}

export class BrokerDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private brokerName: string | null = null;
  /** 0: the master, which owns the table; >0: a slave member holding a copy of it. */
  private brokerId = 0;
  /** When the master's storage was first started (a slave holds its master's). */
  private incarnation = 0;
  /** The table version each slave member was last given (memory: a restart gives it again). */
  private readonly slavesGiven = new Map<number, number>();
  private permission = Perm.READ | Perm.WRITE;
  private dataVersion = 0;
  /** Topic-table version each NameServer instance acknowledged (memory: a restart re-sends all). */
  private readonly acked = new Map<string, number>();
  private readonly registrations: BrokerState["registrations"] = {};
  /** Test configuration only: a silent broker stops registering, as if it had crashed. */
  private silent = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      applyMigrations(this.sql, MIGRATIONS, "_meta");
      this.brokerName = this.meta("broker_name");
      this.brokerId = Number(this.meta("broker_id") ?? 0);
      this.incarnation = Number(this.meta("incarnation") ?? 0);
      this.permission = Number(this.meta("permission") ?? Perm.READ | Perm.WRITE);
      this.dataVersion = Number(this.meta("data_version") ?? 0);
    });
  }

  /**
   * Starts the broker (idempotent): names it, imports its topics from an earlier release once,
   * registers with every NameServer and keeps the heartbeat alarm running.
   */
  async start(brokerName: string): Promise<BrokerState> {
    if (this.brokerId !== 0) throw toRpcError("NO_PERMISSION", "a slave member is started by its master");
    if (this.brokerName !== null && this.brokerName !== brokerName)
      throw toRpcError("BROKER_NOT_EXIST", `this object is broker "${this.brokerName}", not "${brokerName}"`);
    if (this.brokerName === null) {
      this.brokerName = brokerName;
      this.setMeta("broker_name", brokerName);
    }
    if (this.incarnation === 0) {
      this.incarnation = Date.now();
      this.setMeta("incarnation", String(this.incarnation));
    }
    if (this.meta("imported") === null) await this.importLegacy();
    // Register at once on the first start since this object loaded: after a long stop every
    // NameServer may have expired it, and its alarm could be up to an interval away.
    if (Object.keys(this.registrations).length === 0 || (await this.ctx.storage.getAlarm()) === null) await this.registerAll();
    return this.state();
  }

  /**
   * Slave member: takes the master's table and permission, and registers them as its own
   * member, so the broker stays readable from this slave when the master is gone.
   */
  async follow(copy: BrokerTableCopy): Promise<{ incarnation: number; dataVersion: number }> {
    if (this.brokerName !== null && (this.brokerName !== copy.brokerName || this.brokerId !== copy.brokerId))
      throw toRpcError("BROKER_NOT_EXIST", `this object is another broker member`);
    if (copy.brokerId === 0) throw toRpcError("NO_PERMISSION", "the master follows nobody");
    // Only a newer table: two handovers crossing must not leave the older one in place.
    const changed =
      this.brokerName === null || copy.incarnation > this.incarnation || (copy.incarnation === this.incarnation && copy.dataVersion > this.dataVersion);
    if (changed) {
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("DELETE FROM topic_config");
        for (const t of copy.topics) this.insertTopic(t);
        this.brokerName = copy.brokerName;
        this.brokerId = copy.brokerId;
        this.permission = copy.permission;
        this.dataVersion = copy.dataVersion;
        this.incarnation = copy.incarnation;
        this.setMeta("incarnation", String(copy.incarnation));
        this.setMeta("broker_name", copy.brokerName);
        this.setMeta("broker_id", String(copy.brokerId));
        this.setMeta("permission", String(copy.permission));
        this.setMeta("data_version", String(copy.dataVersion));
        this.setMeta("imported", "1");
      });
    }
    // A new table is registered before answering, so routes list this slave as soon as the
    // master's start or change returns. The master has already registered itself by then (it
    // hands copies over after its own heartbeat), and waits at most REGISTER_TIMEOUT_MS.
    if (changed) await this.registerAll();
    else if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 1);
    return { incarnation: this.incarnation, dataVersion: this.dataVersion };
  }

  state(): BrokerState {
    return {
      brokerName: this.name(),
      brokerIds: this.brokerIds(),
      permission: this.permission,
      dataVersion: this.dataVersion,
      topicCount: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM topic_config").one().n,
      registrations: this.registrations,
    };
  }

  listTopics(): BrokerTopicConfig[] {
    return this.sql.exec<TopicRow>("SELECT * FROM topic_config ORDER BY topic").toArray().map(toTopicConfig);
  }

  getTopic(topic: string): BrokerTopicConfig | null {
    const row = this.sql.exec<TopicRow>("SELECT * FROM topic_config WHERE topic = ?", topic).toArray()[0];
    return row ? toTopicConfig(row) : null;
  }

  /** Creates or updates a topic on this broker, then registers the new table at once. */
  async upsertTopic(topic: string, input: TopicQueuesInput, mode: TopicWriteMode): Promise<{ created: boolean; config: BrokerTopicConfig }> {
    this.masterOnly();
    const existing = this.getTopic(topic);
    const queues = mergeQueues(input, existing, readConfig(this.env).defaultTopicQueueNums);
    if (existing && mode === "createIfAbsent") return { created: false, config: existing };
    if (existing && mode === "create" && !sameQueues(existing, queues))
      throw toRpcError("TOPIC_ALREADY_EXISTS", `topic "${topic}" already exists on broker "${this.name()}"`);
    const now = Date.now();
    const config: BrokerTopicConfig = {
      topic,
      ...queues,
      createdAt: existing?.createdAt ?? now,
      updatedAt: existing && sameQueues(existing, queues) ? existing.updatedAt : now,
    };
    if (!existing || config.updatedAt !== existing.updatedAt) {
      this.insertTopic(config);
      this.bumpVersion();
      await this.registerAll();
    }
    return { created: !existing, config };
  }

  async deleteTopic(topic: string): Promise<BrokerTopicConfig | null> {
    this.masterOnly();
    const existing = this.getTopic(topic);
    if (!existing) return null;
    this.sql.exec("DELETE FROM topic_config WHERE topic = ?", topic);
    this.bumpVersion();
    await this.registerAll();
    return existing;
  }

  /** Drains (no WRITE) or restores the broker, as mqadmin wipeWritePerm / addWritePerm; returns its topics. */
  async setWritable(writable: boolean): Promise<string[]> {
    this.masterOnly();
    const permission = writable ? this.permission | Perm.WRITE : this.permission & ~Perm.WRITE;
    if (permission !== this.permission) {
      this.permission = permission;
      this.setMeta("permission", String(permission));
      this.bumpVersion();
    }
    await this.registerAll();
    return this.listTopics().map((t) => t.topic);
  }

  /**
   * Takes the broker out of the deployment (RocketMQ: shutting a drained broker down): its
   * slave members stop too, every NameServer forgets it, and its alarm and storage go. Refused
   * while it still holds topics.
   */
  async shutdown(): Promise<void> {
    const name = this.name();
    if (this.brokerId === 0) {
      const held = this.listTopics().map((t) => t.topic);
      if (held.length > 0)
        throw toRpcError(
          "BROKER_HAS_TOPICS",
          `broker "${name}" still holds ${held.length} topic(s), e.g. "${held[0]}"; move them off first (topic update --brokers)`,
        );
      const config = readConfig(this.env);
      for (let id = 1; id <= config.slavesPerBroker; id++) {
        await withTimeout(brokerStub(this.env, name, id).shutdown(), REGISTER_TIMEOUT_MS);
      }
      const results = await Promise.allSettled(nameServerStubs(this.env).map(({ stub }) => withTimeout(stub.unregisterBroker(name), REGISTER_TIMEOUT_MS)));
      if (results.some((r) => r.status === "rejected")) throw toRpcError("SERVICE_UNAVAILABLE", "a NameServer did not take the removal; retry");
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.brokerName = null;
    this.brokerId = 0;
    this.incarnation = 0;
    this.dataVersion = 0;
    this.permission = Perm.READ | Perm.WRITE;
    this.acked.clear();
    this.slavesGiven.clear();
    for (const k of Object.keys(this.registrations)) delete this.registrations[k];
  }

  /** Test configuration only: stops (true) or resumes (false) registrations. */
  async testSetSilent(silent: boolean): Promise<void> {
    if (!readConfig(this.env).testFaultsEnabled) throw toRpcError("NOT_FOUND", "fault injection is off");
    this.silent = silent;
    if (!silent) await this.registerAll();
  }

  override async alarm(): Promise<void> {
    await this.registerAll();
  }

  /**
   * Registers with every NameServer instance in parallel: a heartbeat when the instance has
   * this table version, the full table when it does not. Re-arms the alarm either way.
   */
  private async registerAll(): Promise<void> {
    const config = readConfig(this.env);
    if (this.brokerName === null) return; // never started (or removed): nothing to keep alive
    if (this.brokerId > config.slavesPerBroker) {
      // BROKER_SLAVES was lowered: this slave member is no member any more.
      await this.ctx.storage.deleteAlarm();
      return;
    }
    let failed = false;
    if (!this.silent) {
      const results = await Promise.allSettled(
        nameServerStubs(this.env).map(async ({ name, stub }) => {
          // The version is taken with the table it goes with: a change made while this call
          // is out bumps it and registers again.
          const version = this.dataVersion;
          const known = this.acked.get(name) === version;
          const full = () => this.registration(this.listTopics());
          const answer = await withTimeout(stub.registerBroker(known ? this.registration(null) : full()), REGISTER_TIMEOUT_MS);
          if (answer.stale) await withTimeout(stub.registerBroker(full()), REGISTER_TIMEOUT_MS);
          this.acked.set(name, version);
          this.registrations[name] = { lastOkAt: Date.now(), lastError: null };
        }),
      );
      results.forEach((r, i) => {
        if (r.status === "fulfilled") return;
        failed = true;
        const name = nameServerStubs(this.env)[i]!.name;
        console.warn(`broker ${this.name()}@${this.brokerId}: registration with ${name} failed: ${String(r.reason)}`);
        this.acked.delete(name);
        this.registrations[name] = { lastOkAt: this.registrations[name]?.lastOkAt ?? null, lastError: String(r.reason) };
      });
    }
    // After the NameServers, and in parallel: a slave member that cannot be reached gets the
    // table at the next heartbeat, and never delays this one.
    if (!this.silent && this.brokerId === 0) await this.giveSlavesTheTable();
    const delay = failed ? Math.min(RETRY_AFTER_FAILURE_MS, config.brokerHeartbeatIntervalMs) : config.brokerHeartbeatIntervalMs;
    await this.ctx.storage.setAlarm(Date.now() + delay);
  }

  private registration(topics: BrokerTopicConfig[] | null): BrokerRegistration {
    const config = readConfig(this.env);
    return {
      clusterName: config.clusterName,
      brokerName: this.name(),
      brokerId: this.brokerId,
      role: this.brokerId === 0 ? config.brokerRole : "SLAVE",
      incarnation: this.incarnation,
      permission: this.permission,
      dataVersion: this.dataVersion,
      topics,
    };
  }

  /**
   * Master: hands each slave member the current table (once per version); each then registers
   * on its own alarm.
   */
  private async giveSlavesTheTable(): Promise<void> {
    const config = readConfig(this.env);
    const version = this.dataVersion;
    const topics = this.listTopics();
    const ids = Array.from({ length: config.slavesPerBroker }, (_, i) => i + 1).filter((id) => this.slavesGiven.get(id) !== version);
    await Promise.allSettled(
      ids.map(async (id) => {
        const copy: BrokerTableCopy = {
          brokerName: this.name(),
          brokerId: id,
          incarnation: this.incarnation,
          topics,
          permission: this.permission,
          dataVersion: version,
        };
        const stub = brokerStub(this.env, this.name(), id);
        try {
          const held = await withTimeout(stub.follow(copy), REGISTER_TIMEOUT_MS);
          if (held.incarnation === this.incarnation && held.dataVersion >= version) this.slavesGiven.set(id, version);
        } catch (e) {
          console.warn(`broker ${this.name()}: slave member ${id} not reached: ${String(e)}`);
        }
      }),
    );
  }

  private brokerIds(): Record<string, BrokerRole> {
    const config = readConfig(this.env);
    const ids: Record<string, BrokerRole> = { "0": config.brokerRole };
    for (let id = 1; id <= config.slavesPerBroker; id++) ids[String(id)] = "SLAVE";
    return ids;
  }

  private masterOnly(): void {
    if (this.brokerId !== 0) throw toRpcError("NO_PERMISSION", "a slave member's table is a copy of its master's");
  }

  private insertTopic(t: BrokerTopicConfig, onConflict: "replace" | "ignore" = "replace"): void {
    this.sql.exec(
      `INSERT OR ${onConflict === "ignore" ? "IGNORE" : "REPLACE"} INTO topic_config (topic, ${TOPIC_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      t.topic,
      ...topicRowValues(t),
    );
  }

  private async importLegacy(): Promise<void> {
    let legacy: BrokerTopicConfig[];
    try {
      legacy = await readNameServer(this.env, (ns) => ns.legacyTopics(this.name()));
    } catch {
      return; // tried again at the next start
    }
    this.ctx.storage.transactionSync(() => {
      // Never over a row written since (an import retried after the broker already served).
      for (const t of legacy) this.insertTopic(t, "ignore");
      if (legacy.length > 0) this.bumpVersion();
      this.setMeta("imported", "1");
    });
  }

  private bumpVersion(): void {
    this.dataVersion++;
    this.setMeta("data_version", String(this.dataVersion));
  }

  private name(): string {
    if (this.brokerName === null) throw toRpcError("BROKER_NOT_EXIST", "broker not started");
    return this.brokerName;
  }

  private meta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM broker_meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO broker_meta (key, value) VALUES (?, ?)", key, value);
  }
}

function sameQueues(a: TopicQueues, b: TopicQueues): boolean {
  return a.readQueueNums === b.readQueueNums && a.writeQueueNums === b.writeQueueNums && a.perm === b.perm && a.topicSysFlag === b.topicSysFlag;
}
