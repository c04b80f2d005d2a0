/**
 * Broker: one object per broker member. It owns the broker's topic config table (the source of
 * truth, as in RocketMQ; its SQL in broker/topic-table.ts) and its permission, and registers
 * them with every NameServer instance (broker/registration.ts) on an alarm every
 * BROKER_HEARTBEAT_INTERVAL_MS, and at once when they change. A broker that stops registering
 * leaves the routes after BROKER_EXPIRY_MS. The queues themselves are QueueDOs; this object
 * holds no messages.
 */
import { DurableObject } from "cloudflare:workers";
import { toRpcError } from "../cluster/rpc-errors.js";
import { Perm, type BrokerRole, type BrokerTopicConfig } from "../protocol/route.js";
import { readConfig } from "../cluster/config.js";
import type { Env } from "../cluster/env.js";
import { readNameServer } from "../cluster/nameservers.js";
import type { TopicWriteMode } from "../cluster/topic-registry.js";
import { mergeQueues, type TopicQueues, type TopicQueuesInput } from "./topic-row.js";
import { TopicTable } from "./broker/topic-table.js";
import { Registration, memberName, type BrokerMember, type BrokerTableCopy, type RegistrationStatus } from "./broker/registration.js";
import { trackActivity } from "./shared/activity.js";

export interface BrokerState {
  brokerName: string;
  brokerIds: Record<string, BrokerRole>;
  /** RocketMQ's brokerPermission: a broker without WRITE is drained. */
  permission: number;
  dataVersion: number;
  topicCount: number;
  /** Per NameServer instance: when it last took a registration, and the last error if any. */
  registrations: RegistrationStatus;
}

export class BrokerDO extends DurableObject<Env> {
  private readonly table: TopicTable;
  /** Who this object is; registration reads it as it changes. */
  private readonly member: BrokerMember = { brokerName: null, brokerId: 0, incarnation: 0, permission: Perm.READ | Perm.WRITE, dataVersion: 0 };
  private readonly registration: Registration;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.table = new TopicTable(ctx.storage.sql);
    this.registration = new Registration(env, ctx.storage, this.member, () => this.listTopics());
    void ctx.blockConcurrencyWhile(async () => {
      this.table.migrate();
      this.member.brokerName = this.table.meta("broker_name");
      this.member.brokerId = Number(this.table.meta("broker_id") ?? 0);
      this.member.incarnation = Number(this.table.meta("incarnation") ?? 0);
      this.member.permission = Number(this.table.meta("permission") ?? Perm.READ | Perm.WRITE);
      this.member.dataVersion = Number(this.table.meta("data_version") ?? 0);
    });
  }

  /**
   * Starts the broker (idempotent): names it, imports its topics from an earlier release once,
   * registers with every NameServer and keeps the heartbeat alarm running.
   */
  async start(brokerName: string): Promise<BrokerState> {
    if (this.member.brokerId !== 0) throw toRpcError("NO_PERMISSION", "a slave member is started by its master");
    if (this.member.brokerName !== null && this.member.brokerName !== brokerName)
      throw toRpcError("BROKER_NOT_EXIST", `this object is broker "${this.member.brokerName}", not "${brokerName}"`);
    if (this.member.brokerName === null) {
      this.member.brokerName = brokerName;
      this.table.setMeta("broker_name", brokerName);
    }
    if (this.member.incarnation === 0) {
      this.member.incarnation = Date.now();
      this.table.setMeta("incarnation", String(this.member.incarnation));
    }
    if (this.table.meta("imported") === null) await this.importLegacy();
    // Register at once on the first start since this object loaded: after a long stop every
    // NameServer may have expired it, and its alarm could be up to an interval away.
    if (!this.registration.triedSinceLoad() || (await this.ctx.storage.getAlarm()) === null) await this.registerAll();
    return this.state();
  }

  /**
   * Slave member: takes the master's table and permission, and registers them as its own
   * member, so the broker stays readable from this slave when the master is gone.
   */
  async follow(copy: BrokerTableCopy): Promise<{ incarnation: number; dataVersion: number }> {
    if (this.member.brokerName !== null && (this.member.brokerName !== copy.brokerName || this.member.brokerId !== copy.brokerId))
      throw toRpcError("BROKER_NOT_EXIST", `this object is another broker member`);
    if (copy.brokerId === 0) throw toRpcError("NO_PERMISSION", "the master follows nobody");
    // Only a newer table: two handovers crossing must not leave the older one in place.
    const changed =
      this.member.brokerName === null ||
      copy.incarnation > this.member.incarnation ||
      (copy.incarnation === this.member.incarnation && copy.dataVersion > this.member.dataVersion);
    if (changed) {
      this.ctx.storage.transactionSync(() => {
        this.table.clear();
        for (const t of copy.topics) this.table.put(t);
        this.member.brokerName = copy.brokerName;
        this.member.brokerId = copy.brokerId;
        this.member.permission = copy.permission;
        this.member.dataVersion = copy.dataVersion;
        this.member.incarnation = copy.incarnation;
        this.table.setMeta("incarnation", String(copy.incarnation));
        this.table.setMeta("broker_name", copy.brokerName);
        this.table.setMeta("broker_id", String(copy.brokerId));
        this.table.setMeta("permission", String(copy.permission));
        this.table.setMeta("data_version", String(copy.dataVersion));
        this.table.setMeta("imported", "1");
      });
    }
    // A new table is registered before answering, so routes list this slave as soon as the
    // master's start or change returns. The master has already registered itself by then (it
    // hands copies over after its own heartbeat), and waits at most REGISTER_TIMEOUT_MS (registration.ts).
    if (changed) await this.registerAll();
    else if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 1);
    return { incarnation: this.member.incarnation, dataVersion: this.member.dataVersion };
  }

  state(): BrokerState {
    return {
      brokerName: this.name(),
      brokerIds: this.brokerIds(),
      permission: this.member.permission,
      dataVersion: this.member.dataVersion,
      topicCount: this.table.count(),
      registrations: this.registration.status,
    };
  }

  listTopics(): BrokerTopicConfig[] {
    return this.table.list();
  }

  getTopic(topic: string): BrokerTopicConfig | null {
    return this.table.get(topic);
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
      this.table.put(config);
      this.bumpVersion();
      await this.registerAll();
    }
    return { created: !existing, config };
  }

  async deleteTopic(topic: string): Promise<BrokerTopicConfig | null> {
    this.masterOnly();
    const existing = this.getTopic(topic);
    if (!existing) return null;
    this.table.delete(topic);
    this.bumpVersion();
    await this.registerAll();
    return existing;
  }

  /** Drains (no WRITE) or restores the broker, as mqadmin wipeWritePerm / addWritePerm; returns its topics. */
  async setWritable(writable: boolean): Promise<string[]> {
    this.masterOnly();
    const permission = writable ? this.member.permission | Perm.WRITE : this.member.permission & ~Perm.WRITE;
    if (permission !== this.member.permission) {
      this.member.permission = permission;
      this.table.setMeta("permission", String(permission));
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
    if (this.member.brokerId === 0) {
      const held = this.listTopics().map((t) => t.topic);
      if (held.length > 0)
        throw toRpcError(
          "BROKER_HAS_TOPICS",
          `broker "${name}" still holds ${held.length} topic(s), e.g. "${held[0]}"; move them off first (topic update --brokers)`,
        );
      await this.registration.unregister(name);
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.member.brokerName = null;
    this.member.brokerId = 0;
    this.member.incarnation = 0;
    this.member.dataVersion = 0;
    this.member.permission = Perm.READ | Perm.WRITE;
    this.registration.reset();
  }

  /** Test configuration only: stops (true) or resumes (false) registrations. */
  async testSetSilent(silent: boolean): Promise<void> {
    if (!readConfig(this.env).testFaultsEnabled) throw toRpcError("NOT_FOUND", "fault injection is off");
    this.registration.silent = silent;
    if (!silent) await this.registerAll();
  }

  override async alarm(): Promise<void> {
    await this.registerAll();
  }

  private registerAll(): Promise<void> {
    return this.registration.registerAll();
  }

  private brokerIds(): Record<string, BrokerRole> {
    const config = readConfig(this.env);
    const ids: Record<string, BrokerRole> = { "0": config.brokerRole };
    for (let id = 1; id <= config.slavesPerBroker; id++) ids[String(id)] = "SLAVE";
    return ids;
  }

  private masterOnly(): void {
    if (this.member.brokerId !== 0) throw toRpcError("NO_PERMISSION", "a slave member's table is a copy of its master's");
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
      for (const t of legacy) this.table.put(t, "ignore");
      if (legacy.length > 0) this.bumpVersion();
      this.table.setMeta("imported", "1");
    });
  }

  private bumpVersion(): void {
    this.member.dataVersion++;
    this.table.setMeta("data_version", String(this.member.dataVersion));
  }

  private name(): string {
    return memberName(this.member);
  }
}

// Calls in progress and time awake, for the idle-cost test and the benchmark (shared/activity.ts).
trackActivity(BrokerDO);

function sameQueues(a: TopicQueues, b: TopicQueues): boolean {
  return a.readQueueNums === b.readQueueNums && a.writeQueueNums === b.writeQueueNums && a.perm === b.perm && a.topicSysFlag === b.topicSysFlag;
}
