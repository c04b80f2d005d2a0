/**
 * A broker member's registration with the NameServers (RocketMQ's registerBrokerAll): on its
 * alarm every BROKER_HEARTBEAT_INTERVAL_MS, and at once when its table or permission changes,
 * the member registers with every NameServer instance in parallel: a heartbeat when the
 * instance holds this table version, the full table when it does not. A failed or hung
 * instance is tried again soon and never holds up the others. A master also hands each slave
 * member a copy of its table, which the slave registers as its own member, so the broker stays
 * readable from the slave when the master is gone. A broker that stops registering leaves the
 * routes after BROKER_EXPIRY_MS; one taken out is removed from every NameServer here too.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { BrokerRegistration, BrokerTopicConfig } from "../../protocol/route.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { nameServerStubs } from "../../cluster/nameservers.js";
import { brokerStub } from "../../cluster/stubs.js";
import { withTimeout } from "../shared/timeout.js";

/** After a failed registration the next try comes this soon, not a whole interval later. */
const RETRY_AFTER_FAILURE_MS = 1000;
/** A NameServer that has not answered by then counts as failed, so one hung instance never stops the heartbeat to the others. */
const REGISTER_TIMEOUT_MS = 5000;

/**
 * Who the broker object is, as it stands now. The object owns it and changes it in place;
 * registration reads it again after every await, so a change made while a registration is out
 * is what the next one sends.
 */
export interface BrokerMember {
  /** null: never started, or removed. */
  brokerName: string | null;
  /** 0: the master, which owns the table; >0: a slave member holding a copy of it. */
  brokerId: number;
  /** When the master's storage was first started (a slave holds its master's). */
  incarnation: number;
  /** RocketMQ's brokerPermission: a broker without WRITE is drained. */
  permission: number;
  /** The topic table's version. */
  dataVersion: number;
}

/** Per NameServer instance: when it last took a registration, and the last error if any. */
export type RegistrationStatus = Record<string, { lastOkAt: number | null; lastError: string | null }>;

/** A copy of the master's table and permission that a slave member registers on its own. */
export interface BrokerTableCopy {
  brokerName: string;
  brokerId: number;
  incarnation: number;
  topics: BrokerTopicConfig[];
  permission: number;
  dataVersion: number;
}

/** The member's name; a member not started (or removed) has none to register or answer with. */
export function memberName(member: BrokerMember): string {
  if (member.brokerName === null) throw toRpcError("BROKER_NOT_EXIST", "broker not started");
  return member.brokerName;
}

export class Registration {
  readonly status: RegistrationStatus = {};
  /** Test configuration only: a silent broker stops registering, as if it had crashed. */
  silent = false;
  /** Topic-table version each NameServer instance acknowledged (memory: a restart re-sends all). */
  private readonly acked = new Map<string, number>();
  /** The table version each slave member was last given (memory: a restart gives it again). */
  private readonly slavesGiven = new Map<number, number>();

  /**
   * @param storage where the heartbeat alarm lives (the broker object's own storage)
   * @param listTopics reads the member's topic table as it is now
   * @param now the clock (milliseconds since the epoch)
   */
  constructor(
    private readonly env: Env,
    private readonly storage: DurableObjectStorage,
    private readonly member: BrokerMember,
    private readonly listTopics: () => BrokerTopicConfig[],
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Whether any NameServer was tried since this object loaded. */
  triedSinceLoad(): boolean {
    return Object.keys(this.status).length > 0;
  }

  /**
   * Registers with every NameServer instance in parallel: a heartbeat when the instance has
   * this table version, the full table when it does not. Re-arms the alarm either way.
   */
  async registerAll(): Promise<void> {
    const config = readConfig(this.env);
    if (this.member.brokerName === null) return; // never started (or removed): nothing to keep alive
    if (this.member.brokerId > config.slavesPerBroker) {
      // BROKER_SLAVES was lowered: this slave member is no member any more.
      await this.storage.deleteAlarm();
      return;
    }
    let failed = false;
    if (!this.silent) {
      const results = await Promise.allSettled(
        nameServerStubs(this.env).map(async ({ name, stub }) => {
          // The version is taken with the table it goes with: a change made while this call
          // is out bumps it and registers again.
          const version = this.member.dataVersion;
          const known = this.acked.get(name) === version;
          const full = () => this.registration(this.listTopics());
          const answer = await withTimeout(stub.registerBroker(known ? this.registration(null) : full()), REGISTER_TIMEOUT_MS);
          if (answer.stale) await withTimeout(stub.registerBroker(full()), REGISTER_TIMEOUT_MS);
          this.acked.set(name, version);
          this.status[name] = { lastOkAt: this.now(), lastError: null };
        }),
      );
      results.forEach((r, i) => {
        if (r.status === "fulfilled") return;
        failed = true;
        const name = nameServerStubs(this.env)[i]!.name;
        console.warn(`broker ${memberName(this.member)}@${this.member.brokerId}: registration with ${name} failed: ${String(r.reason)}`);
        this.acked.delete(name);
        this.status[name] = { lastOkAt: this.status[name]?.lastOkAt ?? null, lastError: String(r.reason) };
      });
    }
    // After the NameServers, and in parallel: a slave member that cannot be reached gets the
    // table at the next heartbeat, and never delays this one.
    if (!this.silent && this.member.brokerId === 0) await this.giveSlavesTheTable();
    const delay = failed ? Math.min(RETRY_AFTER_FAILURE_MS, config.brokerHeartbeatIntervalMs) : config.brokerHeartbeatIntervalMs;
    await this.storage.setAlarm(this.now() + delay);
  }

  /**
   * Master: takes the broker out of every NameServer, after stopping its slave members (so
   * none registers it again). Throws when a NameServer did not take the removal.
   */
  async unregister(brokerName: string): Promise<void> {
    const config = readConfig(this.env);
    for (let id = 1; id <= config.slavesPerBroker; id++) {
      await withTimeout(brokerStub(this.env, brokerName, id).shutdown(), REGISTER_TIMEOUT_MS);
    }
    const results = await Promise.allSettled(nameServerStubs(this.env).map(({ stub }) => withTimeout(stub.unregisterBroker(brokerName), REGISTER_TIMEOUT_MS)));
    if (results.some((r) => r.status === "rejected")) throw toRpcError("SERVICE_UNAVAILABLE", "a NameServer did not take the removal; retry");
  }

  /** Forgets what every NameServer and slave member was sent (the broker was removed). */
  reset(): void {
    this.acked.clear();
    this.slavesGiven.clear();
    for (const k of Object.keys(this.status)) delete this.status[k];
  }

  private registration(topics: BrokerTopicConfig[] | null): BrokerRegistration {
    const config = readConfig(this.env);
    return {
      clusterName: config.clusterName,
      brokerName: memberName(this.member),
      brokerId: this.member.brokerId,
      role: this.member.brokerId === 0 ? config.brokerRole : "SLAVE",
      incarnation: this.member.incarnation,
      permission: this.member.permission,
      dataVersion: this.member.dataVersion,
      topics,
    };
  }

  /**
   * Master: hands each slave member the current table (once per version); each then registers
   * on its own alarm.
   */
  private async giveSlavesTheTable(): Promise<void> {
    const config = readConfig(this.env);
    const version = this.member.dataVersion;
    const topics = this.listTopics();
    const ids = Array.from({ length: config.slavesPerBroker }, (_, i) => i + 1).filter((id) => this.slavesGiven.get(id) !== version);
    await Promise.allSettled(
      ids.map(async (id) => {
        const copy: BrokerTableCopy = {
          brokerName: memberName(this.member),
          brokerId: id,
          incarnation: this.member.incarnation,
          topics,
          permission: this.member.permission,
          dataVersion: version,
        };
        const stub = brokerStub(this.env, memberName(this.member), id);
        try {
          const held = await withTimeout(stub.follow(copy), REGISTER_TIMEOUT_MS);
          if (held.incarnation === this.member.incarnation && held.dataVersion >= version) this.slavesGiven.set(id, version);
        } catch (e) {
          console.warn(`broker ${memberName(this.member)}: slave member ${id} not reached: ${String(e)}`);
        }
      }),
    );
  }
}
