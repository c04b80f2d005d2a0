/**
 * ProducerGroup: one object per producer group. Queue objects hand it transaction checks;
 * live producers of the group hold a long poll on it, and each check goes to exactly one of
 * them. Checks are kept in memory, bounded by count and by bytes (they carry message bodies):
 * a check lost with the object or dropped for room is raised again by its queue at the next
 * check interval, as RocketMQ re-checks undecided half messages.
 *
 * A producer's long poll is held by the Worker (cluster/long-polls.ts); the object only answers
 * at once and keeps the waiting producers as hibernatable sockets (shared/wake-sockets.ts) that a
 * new check wakes, so a group whose producers wait for checks that do not come costs nothing
 * while they wait. Checks held in memory are lost if the object leaves memory before a producer
 * takes them; their queues raise them again at the next interval, as above.
 *
 * A group may register a webhook instead (for producers that cannot hold a poll): each check
 * is POSTed to it and the `{ decision }` it answers is applied at once. A webhook that fails
 * leaves the check for pollers and for the next interval.
 *
 * The object lists its group with every NameServer (the producer view's list of groups) when
 * it first hears its name, and again every REGISTER_INTERVAL_MS while it is in use.
 */
import { DurableObject } from "cloudflare:workers";
import type { LocalTransactionState, TransactionCheck } from "../protocol/transaction.js";
import type { Env } from "../cluster/env.js";
import { decodeRpcError } from "../cluster/rpc-errors.js";
import { queueStub } from "../cluster/stubs.js";
import { writeNameServers } from "../cluster/nameservers.js";
import { closeParked, WakeSockets } from "./shared/wake-sockets.js";
import { checkBytes, PendingChecks } from "./producer-group/pending-checks.js";
import { applyMigrations } from "./shared/migrate.js";
import { trackActivity } from "./shared/activity.js";

const MIGRATIONS: readonly string[] = [
  // v1: the layout before versions existed.
  "CREATE TABLE IF NOT EXISTS webhook (id INTEGER PRIMARY KEY CHECK (id = 0), url TEXT NOT NULL)",
  // v2: when the group was last listed with the NameServers, so an object back from hibernation
  // does not list it again on every poll.
  "CREATE TABLE registered (id INTEGER PRIMARY KEY CHECK (id = 0), at INTEGER NOT NULL)",
];

/** Undelivered checks kept at most, by count and by bytes; beyond, the oldest are dropped (they will be re-raised). */
const MAX_PENDING_CHECKS = 10_000;
const MAX_PENDING_CHECK_BYTES = 16 * 1024 * 1024;
/** One poll answers at most this many bytes of checks (one check at least), keeping the edge's answer small. */
const POLL_MAX_BYTES = 8 * 1024 * 1024;
/** Checks on their way to the webhook at most, in bytes; beyond, a check waits for pollers instead. */
const WEBHOOK_MAX_INFLIGHT_BYTES = 16 * 1024 * 1024;
const WEBHOOK_TIMEOUT_MS = 5000;
const DECISIONS: ReadonlySet<string> = new Set(["COMMIT_MESSAGE", "ROLLBACK_MESSAGE", "UNKNOW"]);
/** How often a group in use refreshes its entry (and last-seen time) in the NameServers' list. */
const REGISTER_INTERVAL_MS = 10 * 60_000;

export interface ProducerGroupStatus {
  pendingChecks: number;
  /** Bytes the pending checks take, about their JSON size (bounded by MAX_PENDING_CHECK_BYTES). */
  pendingCheckBytes: number;
  parkedPolls: number;
  lastPollAt: number;
  webhookUrl: string | null;
}

export class ProducerGroupDO extends DurableObject<Env> {
  private readonly checks = new PendingChecks({ maxChecks: MAX_PENDING_CHECKS, maxBytes: MAX_PENDING_CHECK_BYTES });
  private webhookBytes = 0;
  private readonly waiters: WakeSockets;
  /** When a producer of this group last polled, for operators and for tests. */
  private lastPollAt = 0;
  private webhookUrl: string | null = null;
  /** When this object last listed its group with the NameServers (0: not since it started). */
  private registeredAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.waiters = new WakeSockets(ctx, { holder: "this producer group", waiters: "parked check polls" });
    void ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage.sql, MIGRATIONS, "_meta");
      this.webhookUrl = ctx.storage.sql.exec<{ url: string }>("SELECT url FROM webhook").toArray()[0]?.url ?? null;
      this.registeredAt = ctx.storage.sql.exec<{ at: number }>("SELECT at FROM registered").toArray()[0]?.at ?? 0;
    });
  }

  /** Queues a check; a newer check of the same transaction replaces an undelivered older one. */
  async enqueueCheck(check: TransactionCheck): Promise<void> {
    // Listed after the check is handed on or queued, so checks keep their order of arrival.
    try {
      await this.handOn(check);
    } finally {
      await this.register(check.producerGroup);
    }
  }

  private async handOn(check: TransactionCheck): Promise<void> {
    const bytes = checkBytes(check);
    if (this.webhookUrl && this.webhookBytes + bytes <= WEBHOOK_MAX_INFLIGHT_BYTES) {
      this.webhookBytes += bytes;
      try {
        if (await this.callWebhook(this.webhookUrl, check)) return;
      } finally {
        this.webhookBytes -= bytes;
      }
    }
    this.checks.add(check);
    this.waiters.wake();
  }

  /**
   * Hands up to `max` checks to one producer, at once (none when none is pending; the Worker
   * then parks the producer's poll on a socket, see fetch). `group` (the object's own name, which
   * the edge knows) lists the group with the NameServers.
   */
  async pollChecks(max: number, group?: string): Promise<TransactionCheck[]> {
    if (group !== undefined) await this.register(group);
    this.lastPollAt = Date.now();
    return this.checks.take(max, POLL_MAX_BYTES);
  }

  /**
   * A producer's poll parks here (cluster/wake-wait.ts): a WebSocket upgrade, answered "wake" at
   * once if checks arrived since the producer's last poll found none.
   */
  override fetch(request: Request): Response {
    return this.waiters.accept(request, () => this.checks.size > 0);
  }

  /** The Worker let a parked poll go (its time ran out, or its client left). */
  override webSocketClose(ws: WebSocket, code: number): void {
    closeParked(ws, code);
  }

  async setWebhook(url: string | null, group?: string): Promise<void> {
    if (url !== null && group !== undefined) await this.register(group);
    if (url === null) this.ctx.storage.sql.exec("DELETE FROM webhook");
    else this.ctx.storage.sql.exec("INSERT OR REPLACE INTO webhook (id, url) VALUES (0, ?)", url);
    this.webhookUrl = url;
  }

  status(): ProducerGroupStatus {
    return {
      pendingChecks: this.checks.size,
      pendingCheckBytes: this.checks.bytes,
      parkedPolls: this.waiters.size,
      lastPollAt: this.lastPollAt,
      webhookUrl: this.webhookUrl,
    };
  }

  /**
   * Lists the group with every NameServer, at most once per REGISTER_INTERVAL_MS. Best effort:
   * the list is for operators, and a write that failed is tried again at the next call.
   */
  private async register(group: string): Promise<void> {
    const now = Date.now();
    if (now - this.registeredAt < REGISTER_INTERVAL_MS) return;
    this.registeredAt = now;
    try {
      await writeNameServers(this.env, (ns) => ns.registerProducerGroup(group, now));
      this.ctx.storage.sql.exec("INSERT OR REPLACE INTO registered (id, at) VALUES (0, ?)", now);
    } catch (e) {
      this.registeredAt = 0;
      console.warn(`listing producer group ${group} with the NameServers failed: ${String(e)}`);
    }
  }

  /** True when the webhook answered a decision that was applied (or UNKNOW). */
  private async callWebhook(url: string, check: TransactionCheck): Promise<boolean> {
    let decision: LocalTransactionState;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(check),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      const body = await res.json<{ decision?: unknown }>();
      if (!res.ok || typeof body.decision !== "string" || !DECISIONS.has(body.decision)) return false;
      decision = body.decision as LocalTransactionState;
    } catch {
      return false;
    }
    if (decision === "UNKNOW") return true;
    const { brokerName, topic, queueId } = check.messageQueue;
    const queue = queueStub(this.env, brokerName, topic, queueId);
    try {
      await queue.endTransaction(check.transactionId, check.producerGroup, decision);
      return true;
    } catch (e) {
      // A decision the queue refuses (already decided) needs no further check.
      const code = decodeRpcError(e)?.code;
      return code === "TRANSACTION_ALREADY_COMMITTED" || code === "TRANSACTION_ALREADY_ROLLED_BACK";
    }
  }
}

// Calls in progress and time awake, for the idle-cost test and the benchmark (shared/activity.ts).
trackActivity(ProducerGroupDO);
