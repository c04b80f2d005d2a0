/**
 * Push subscriptions on one queue: the queue object delivers the group's messages to the
 * subscription's target from its alarm, with no client process (design:
 * docs/design/push-subscriptions.md; decisions in push-plan.ts, calls in push-targets.ts).
 *
 * One `push_sub` row per subscribed group holds its settings and its PushState; the cursor is
 * the group's consume offset, so `group progress`, offset resets and replication to slaves work
 * as for any group. A delivery round writes the state row and the offset row once, whatever the
 * number of messages: O(1) rows per batch. Nothing is written before a call: a round lost to a
 * crash is delivered again from the committed offset (at least once).
 *
 * The alarm step "push delivery" runs every due subscription concurrently, each for a bounded
 * number of rounds, and waits for them at most ALARM_WAIT_MS: a slow target's round goes on by
 * itself and re-arms the alarm when it ends. An append makes the alarm due (`nextDueAt`), and a
 * subscription with nothing to deliver makes nothing due, so an idle subscription costs nothing.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import { Limits } from "../../protocol/limits.js";
import { toMessageExt } from "../../protocol/message-ext.js";
import { buildFilter, type MessageFilter } from "../../protocol/message-filter.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { PushSubscriptionConfig } from "../../protocol/push-subscription.js";
import { isMQError } from "../../protocol/errors.js";
import type { CommitLog } from "./commit-log.js";
import { retryDelayMs } from "./pop.js";
import {
  applyRound,
  dropExpiredRetries,
  EMPTY_PUSH_STATE,
  planRound,
  pushDueAt,
  type BatchOutcome,
  type DeadLetter,
  type PushPolicy,
  type PushState,
} from "./push-plan.js";
import type { TargetEnvironment } from "./push-targets.js";
import { callTarget } from "./push-targets.js";
import { MAX_SCAN_MESSAGES } from "./pull.js";

/** Rounds one subscription takes in one alarm run before it yields (the alarm re-fires at once if more is due). */
export const MAX_ROUNDS_PER_RUN = 8;
/**
 * How long the alarm waits for the subscriptions' rounds. A round still out then (a slow target)
 * goes on by itself and re-arms the alarm when it ends, so a slow target holds up neither the
 * queue's other alarm steps nor the other subscriptions' next runs.
 */
export const ALARM_WAIT_MS = 500;
/** A subscription whose round is out is looked at again after its timeout and this (in case the object lost the round). */
const BUSY_RECHECK_MS = 1000;

/** Where a subscription stands on this queue (group progress). */
export interface PushQueueStatus {
  paused: boolean;
  /** The config version this queue holds. */
  version: number;
  retryBacklog: number;
  nextRetryAt: number | null;
  backoffUntil: number | null;
  lastDeliveryAt: number | null;
  lastError: { at: number; message: string } | null;
  delivered: number;
  deadLettered: number;
}

export interface PushDeliveryDeps {
  sql: SqlStorage;
  log: CommitLog;
  /** The group's committed offset here, or null when it has none. */
  committed: (group: string) => number | null;
  commit: (group: string, offset: number) => void;
  /** Whether `group` consumes this queue by POP (it cannot also have a push subscription). */
  usesPop: (group: string) => boolean;
  /** Which queue this is (null before the first append told it). */
  queue: () => MessageQueue | null;
  target: () => TargetEnvironment;
  delayLevelsMs: () => readonly number[];
  /** Points the queue's alarm at the earliest due work (after a round that ended outside an alarm run). */
  rearm: () => Promise<void>;
  /** Appends dead letters to %DLQ%<group> (created on first use). */
  deadLetter: (group: string, from: MessageQueue, dead: readonly DeadLetter[], maxRetries: number) => Promise<void>;
  now: () => number;
}

interface Subscription {
  config: PushSubscriptionConfig;
  state: PushState;
  filter: MessageFilter;
}

export class PushDelivery {
  private subs: Map<string, Subscription> | null = null;
  /** Groups with a round in progress (one at a time per subscription), and since when. */
  private readonly busy = new Map<string, number>();

  constructor(private readonly deps: PushDeliveryDeps) {}

  has(group: string): boolean {
    return this.all().has(group);
  }

  /**
   * Applies a subscription's settings (create, change, pause, resume). An older version than
   * the one held is ignored, so a late or repeated call cannot undo a newer one.
   */
  set(config: PushSubscriptionConfig): void {
    if (this.deps.usesPop(config.group)) {
      throw toRpcError("CONSUME_MODE_MISMATCH", `group "${config.group}" consumes this queue by POP (SimpleConsumer); it cannot also have a push subscription`);
    }
    const held = this.all().get(config.group);
    // Older than held, or the same told again: nothing to write (and a round out is kept).
    if (held && (held.config.version > config.version || JSON.stringify(held.config) === JSON.stringify(config))) return;
    const filter = toFilter(config);
    const state = held ? held.state : EMPTY_PUSH_STATE;
    // A new subscription starts at the group's committed offset, else at the first message held.
    if (this.deps.committed(config.group) === null) this.deps.commit(config.group, this.deps.log.minOffset);
    this.deps.sql.exec(
      `INSERT INTO push_sub (grp, config, state) VALUES (?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET config = excluded.config`,
      config.group,
      JSON.stringify(config),
      JSON.stringify(state),
    );
    this.all().set(config.group, { config, state, filter });
  }

  /** Removes a subscription (its consume offset stays, as any group's). */
  remove(group: string): void {
    this.deps.sql.exec("DELETE FROM push_sub WHERE grp = ?", group);
    this.all().delete(group);
  }

  status(group: string): PushQueueStatus | null {
    const sub = this.all().get(group);
    if (!sub) return null;
    const { state, config } = sub;
    const nextRetryAt = state.retries.length ? Math.min(...state.retries.map((r) => r.dueAt)) : null;
    return {
      paused: config.paused,
      version: config.version,
      retryBacklog: state.retries.length,
      nextRetryAt,
      backoffUntil: state.backoffUntil > 0 ? state.backoffUntil : null,
      lastDeliveryAt: state.lastDeliveryAt,
      lastError: state.lastError,
      delivered: state.delivered,
      deadLettered: state.deadLettered,
    };
  }

  /** When any subscription next has work; null when none has (no alarm). */
  nextDueAt(): number | null {
    const now = this.deps.now();
    let due: number | null = null;
    for (const [group, sub] of this.all()) {
      const at = this.dueAt(group, sub, now);
      if (at !== null && (due === null || at < due)) due = at;
    }
    return due;
  }

  /** The alarm step: every due subscription delivers, concurrently; one failing never stops another. */
  async runDue(now: number): Promise<void> {
    const mq = this.deps.queue();
    if (!mq) return;
    const due = [...this.all()].filter(([group, sub]) => !this.busy.has(group) && (this.dueAt(group, sub, now) ?? Infinity) <= now);
    const rounds = Promise.all(due.map(([group]) => this.deliver(group, mq).catch((e: unknown) => this.recordError(group, e))));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, ALARM_WAIT_MS)));
    await Promise.race([rounds, waited]);
    if (timer !== undefined) clearTimeout(timer);
  }

  private async deliver(group: string, mq: MessageQueue): Promise<void> {
    this.busy.set(group, this.deps.now());
    try {
      for (let round = 0; round < MAX_ROUNDS_PER_RUN; round++) {
        const sub = this.all().get(group);
        const now = this.deps.now();
        if (!sub || (this.dueAt(group, sub, now, true) ?? Infinity) > now) return;
        if (!(await this.deliverRound(group, sub, mq, now))) return;
      }
    } finally {
      this.busy.delete(group);
      // A round that outlived the alarm's wait: its next due work needs the alarm.
      await this.deps.rearm().catch(() => undefined);
    }
  }

  /** One round: plan, call the targets, dead-letter, write the state and offset once. Returns whether it moved anything. */
  private async deliverRound(group: string, sub: Subscription, mq: MessageQueue, now: number): Promise<boolean> {
    const { config } = sub;
    const cursor = this.deps.committed(group) ?? this.deps.log.minOffset;
    const policy = this.policy(config);
    const state = dropExpiredRetries(sub.state, this.deps.log.minOffset);
    const round = planRound(state, cursor, this.deps.log, policy, now, (e) => sub.filter.matches(e.message));
    if (round.batches.length === 0 && round.scannedTo <= cursor) {
      if (state !== sub.state) this.store(group, sub, state);
      return false;
    }
    const outcomes: BatchOutcome[] = await Promise.all(
      round.batches.map((b) =>
        callTarget(
          config,
          {
            group,
            topic: mq.topic,
            queue: mq,
            messages: b.entries.map((entry, i) => {
              const wire = toMessageExt(mq, entry);
              return { ...wire, reconsumeTimes: entry.message.reconsumeTimes + b.attempts[i]! };
            }),
          },
          this.deps.target(),
        ),
      ),
    );
    const applied = applyRound(state, round, outcomes, policy, this.deps.now());
    if (applied.deadLetters.length > 0) await this.deps.deadLetter(group, mq, applied.deadLetters, config.maxRetries);
    // Changed meanwhile (removed, replaced, offset reset): drop this round's outcome; what it
    // delivered goes again (at least once).
    const current = this.all().get(group);
    if (current !== sub || (this.deps.committed(group) ?? this.deps.log.minOffset) !== cursor) return false;
    if (applied.cursor !== cursor) this.deps.commit(group, applied.cursor);
    this.store(group, sub, applied.state);
    return round.batches.length > 0 || applied.cursor !== cursor;
  }

  private store(group: string, sub: Subscription, state: PushState): void {
    sub.state = state;
    this.deps.sql.exec("UPDATE push_sub SET state = ? WHERE grp = ?", JSON.stringify(state), group);
  }

  /** A round that failed outside the target (the dead-letter queue unreachable): noted, and retried after a backoff. */
  private recordError(group: string, e: unknown): void {
    const sub = this.all().get(group);
    if (!sub) return;
    const now = this.deps.now();
    const throttles = sub.state.throttles + 1;
    const message = `delivery round failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500);
    this.store(group, sub, {
      ...sub.state,
      throttles,
      backoffUntil: now + Math.min(60_000, 1000 * 2 ** Math.min(throttles - 1, 6)),
      lastError: { at: now, message },
    });
  }

  /** When a subscription has work; `inRound`: asked by its own delivery loop, which is the round out. */
  private dueAt(group: string, sub: Subscription, now: number, inRound = false): number | null {
    if (sub.config.paused) return null;
    // A round is out: its end re-arms; until then only a safety look, after its timeout.
    const since = this.busy.get(group);
    if (since !== undefined && !inRound) return since + sub.config.timeoutMs + BUSY_RECHECK_MS;
    const cursor = this.deps.committed(group) ?? this.deps.log.minOffset;
    return pushDueAt(sub.state, Math.max(cursor, this.deps.log.minOffset), this.deps.log, this.policy(sub.config), now);
  }

  private policy(config: PushSubscriptionConfig): PushPolicy {
    const levels = this.deps.delayLevelsMs();
    return {
      orderly: config.orderly,
      maxBatchSize: config.maxBatchSize,
      maxBatchTimeoutMs: config.maxBatchTimeoutMs,
      maxConcurrency: config.orderly ? 1 : config.maxConcurrency,
      maxRetries: config.maxRetries,
      delayMs: (reconsumeTimes) => config.retryDelayMs ?? retryDelayMs(levels, reconsumeTimes),
      maxRetryBacklog: Limits.maxPushRetryBacklog,
      maxBatchBytes: Limits.maxPushBatchBytes,
      maxScan: MAX_SCAN_MESSAGES,
    };
  }

  private all(): Map<string, Subscription> {
    if (this.subs) return this.subs;
    const rows = this.deps.sql.exec<{ grp: string; config: string; state: string }>("SELECT grp, config, state FROM push_sub").toArray();
    this.subs = new Map(
      rows.map((r) => {
        const config = JSON.parse(r.config) as PushSubscriptionConfig;
        return [r.grp, { config, state: JSON.parse(r.state) as PushState, filter: toFilter(config) }];
      }),
    );
    return this.subs;
  }

  /** Forgets the cached rows (a purge deleted them). */
  forget(): void {
    this.subs = null;
  }
}

function toFilter(config: PushSubscriptionConfig): MessageFilter {
  try {
    return buildFilter(config.expressionType, config.expression);
  } catch (e) {
    throw isMQError(e) ? toRpcError(e.code, e.message) : e;
  }
}
