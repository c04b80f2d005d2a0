/**
 * POP consumption (RocketMQ 5.x SimpleConsumer) on one queue: receive, ack and change of
 * invisibility for the groups that consume this way, stored as one `pop_group` row per group
 * (the decisions are pure, in pop-state.ts). A receive writes that one row, an ack of any
 * number of handles writes it once, and a call that changes nothing writes nothing.
 *
 * A group consumes a queue either by POP or by offsets (push and pull consumers): a POP call
 * for a group with a committed offset here, or a commit for a group with POP state, is refused
 * with CONSUME_MODE_MISMATCH, since the two would hand the same messages out twice.
 *
 * The queue's alarm calls `wakeDue` when an in-flight message becomes visible again, so parked
 * receivers read again; `nextDueAt` is when that is.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { ExpressionType } from "../../protocol/consumer.js";
import { delayForLevel } from "../../protocol/delay-levels.js";
import { isMQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import { buildFilter, type MessageFilter } from "../../protocol/message-filter.js";
import { DEFAULT_MAX_RECONSUME_TIMES, nextRetryStep } from "../../protocol/retry-ladder.js";
import type { LogEntry } from "./commit-log.js";
import { ack, changeInvisible, nextVisibleAt, receive, type HandleOutcome, type InflightMessage, type LogSource, type PopState } from "./pop-state.js";
import { decodePopState, encodePopState } from "./pop-state-row.js";
import { MAX_SCAN_MESSAGES } from "./pull.js";

/** Groups whose POP state memory holds at most, per queue. */
const STATE_CACHE_MAX_GROUPS = 1000;

export interface PopReceiveRequest {
  maxNum: number;
  invisibleDurationMs: number;
  expression?: string | undefined;
  expressionType?: ExpressionType | undefined;
  /** An orderly (FIFO) group: one message group at a time (pop-state.ts). Default false. */
  orderly?: boolean | undefined;
  /** Redeliveries before a message is claimed for the dead-letter queue instead. Default DEFAULT_MAX_RECONSUME_TIMES (16). */
  maxReconsumeTimes?: number | undefined;
  /**
   * Whether a message not acked in time waits the retry ladder's delay (level 3 +
   * reconsumeTimes) after its invisibility before it is visible again. Default true; false makes
   * it visible right at invisibleUntil (the HTTP protocol's NextConsumeTime).
   */
  retryLadder?: boolean | undefined;
  /**
   * Handles of this queue to ack before reading (a receive that carries the acks of the batch
   * before it): the ack and the receive share one call and one row written.
   */
  ack?: readonly PopHandle[] | undefined;
}

/** One received message: the log entry and the delivery its receipt handle names. */
export interface PopMessage {
  /** The message as the log holds it: its deliveries to this group are `reconsumeTimes`, not the entry's. */
  entry: LogEntry;
  nonce: number;
  invisibleUntil: number;
  reconsumeTimes: number;
  firstReceivedAt: number;
}

export interface PopReceiveResult {
  messages: PopMessage[];
  /**
   * Messages past maxReconsumeTimes, claimed for the caller to append to `%DLQ%<group>` and then
   * ack with their nonce; a claim not acked within DEAD_LETTER_CLAIM_MS is made again.
   */
  deadLetters: PopMessage[];
  /** The queue's maxOffset at the read, for a receiver that parks until it moves. */
  maxOffset: number;
  /** What a receiver that parks saw of the group's POP state (`isStale` compares it). */
  pop: PopSeen;
  /** The outcome of each handle of `ack`, in order (absent when the request carried none). */
  ackOutcomes?: HandleOutcome[];
}

/**
 * What a parked receiver saw: how many messages the group had in flight and when the next one
 * becomes visible. Either changing (an ack, a change of invisibility, the time passing) means
 * the receiver may find something now, so it is told to read again rather than park.
 */
export interface PopSeen {
  group: string;
  inflight: number;
  dueAt: number | null;
}

/** How long a dead-letter claim holds before another receive claims the message again. */
export const DEAD_LETTER_CLAIM_MS = 60_000;

export interface PopHandle {
  offset: number;
  nonce: number;
}

export interface PopDeps {
  sql: SqlStorage;
  log: LogSource & { readonly minOffset: number; readonly maxOffset: number };
  /** Whether `group` has a committed offset on this queue (it consumes by offsets). */
  usesOffsets: (group: string) => boolean;
  delayLevelsMs: () => readonly number[];
  now: () => number;
}

export class Pop {
  /** Rows this object's POP state wrote since it started (the bench's rows per message). */
  rowsWritten = 0;

  /**
   * Each group's state as last read or written, so a receive and an ack parse no JSON and
   * read no row: every write of `pop_group` state goes through store(). Bounded: cleared past
   * STATE_CACHE_MAX_GROUPS (reading a state again is cheap).
   */
  private readonly states = new Map<string, PopState | null>();

  constructor(private readonly deps: PopDeps) {}

  /** Forgets what memory holds (the storage was deleted under it). */
  forget(): void {
    this.states.clear();
  }

  /** Whether `group` consumes this queue by POP. */
  has(group: string): boolean {
    return this.load(group) !== null;
  }

  receive(group: string, req: PopReceiveRequest): PopReceiveResult {
    checkInvisibleDuration(req.invisibleDurationMs);
    if (!Number.isSafeInteger(req.maxNum) || req.maxNum < 1 || req.maxNum > Limits.maxReceiveNum) {
      throw toRpcError("VALIDATION_FAILED", `maxMessageNum must be 1 to ${Limits.maxReceiveNum}`);
    }
    const filter = toFilter(req.expressionType, req.expression);
    if (this.deps.usesOffsets(group)) {
      throw toRpcError("CONSUME_MODE_MISMATCH", `group "${group}" consumes this queue by offsets (push or pull); it cannot receive by POP`);
    }
    const { log, now } = this.deps;
    const at = now();
    const loaded = this.load(group);
    let prev = loaded ?? { cursor: log.minOffset, nonce: 0, inflight: [] };
    let ackOutcomes: HandleOutcome[] | undefined;
    if (req.ack) {
      // Acked first, so an orderly group's next message of the key may go out in this answer.
      const acked = ackOf(loaded, req.ack, at);
      prev = acked.state ?? prev;
      ackOutcomes = acked.outcomes;
    }
    const levels = this.deps.delayLevelsMs();
    const ladder = req.retryLadder !== false;
    const result = receive(prev, log, {
      now: at,
      maxNum: req.maxNum,
      invisibleDurationMs: req.invisibleDurationMs,
      filter,
      orderly: req.orderly === true,
      maxReconsumeTimes: req.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES,
      deadLetterClaimMs: DEAD_LETTER_CLAIM_MS,
      retryDelayMs: (reconsumeTimes) => (ladder ? retryDelayMs(levels, reconsumeTimes) : 0),
      maxInflight: Limits.maxInflightPerQueue,
      maxScan: MAX_SCAN_MESSAGES,
      minOffset: log.minOffset,
    });
    if (result.changed || (loaded !== null && prev !== loaded)) this.store(group, result.state, at);
    return {
      messages: result.received.map(({ entry, handed }) => toPopMessage(entry, handed)),
      deadLetters: result.deadLetters.map(({ entry, handed }) => toPopMessage(entry, handed)),
      maxOffset: log.maxOffset,
      pop: seenOf(group, result.state, at),
      ...(ackOutcomes ? { ackOutcomes } : {}),
    };
  }

  /** Acks many handles in one write; each gets its outcome, and a bad one does not stop the others. */
  ack(group: string, handles: readonly PopHandle[]): HandleOutcome[] {
    const prev = this.load(group);
    const at = this.deps.now();
    const { state, outcomes } = ackOf(prev, handles, at);
    if (state && state !== prev) this.store(group, state, at);
    return outcomes;
  }

  /** A held message's new invisibility; the answer's nonce and invisibleUntil make its new handle. */
  changeInvisible(group: string, handle: PopHandle, invisibleDurationMs: number): { outcome: HandleOutcome; nonce?: number; invisibleUntil?: number } {
    checkInvisibleDuration(invisibleDurationMs);
    const prev = this.load(group);
    if (!prev) return { outcome: "RECEIPT_HANDLE_INVALID" };
    const at = this.deps.now();
    const { state, outcome, changed } = changeInvisible(prev, handle, invisibleDurationMs, at);
    if (outcome !== "OK" || !changed) return { outcome };
    this.store(group, state, at);
    return { outcome, nonce: changed.nonce, invisibleUntil: changed.invisibleUntil };
  }

  /** When a held message next becomes visible, over every group: when the alarm must wake receivers. */
  nextDueAt(): number | null {
    const row = this.deps.sql.exec<{ at: number | null }>("SELECT MIN(due_at) AS at FROM pop_group").toArray()[0];
    return row?.at ?? null;
  }

  /** Moves each group's due time past `now`; returns whether any message became visible (receivers must read again). */
  wakeDue(now: number): boolean {
    const due = this.deps.sql.exec<{ grp: string; state: string }>("SELECT grp, state FROM pop_group WHERE due_at <= ?", now).toArray();
    for (const row of due) {
      const state = decodePopState(row.state);
      this.rowsWritten += this.deps.sql.exec("UPDATE pop_group SET due_at = ? WHERE grp = ?", nextVisibleAt(state, now), row.grp).rowsWritten;
    }
    return due.length > 0;
  }

  /** Whether a receiver that saw `seen` must read again (the queue's maxOffset is checked by the caller). */
  isStale(seen: PopSeen): boolean {
    const state = this.load(seen.group);
    if (!state) return seen.inflight !== 0;
    const now = seenOf(seen.group, state, this.deps.now());
    return now.inflight !== seen.inflight || now.dueAt !== seen.dueAt;
  }

  /** A POP group's cursor and messages in flight, or null for a group that does not POP here. */
  progress(group: string): { cursor: number; inflight: number } | null {
    const state = this.load(group);
    return state ? { cursor: state.cursor, inflight: state.inflight.length } : null;
  }

  /** Every POP group of this queue with its cursor and messages in flight (metrics). */
  allProgress(limit: number): { group: string; cursor: number; inflight: number }[] {
    return this.deps.sql
      .exec<{ grp: string; state: string }>("SELECT grp, state FROM pop_group ORDER BY grp LIMIT ?", limit)
      .toArray()
      .map((row) => {
        const state = decodePopState(row.state);
        return { group: row.grp, cursor: state.cursor, inflight: state.inflight.length };
      });
  }

  /** The in-flight messages of a group (progress, tests). */
  inflight(group: string): InflightMessage[] {
    return this.load(group)?.inflight ?? [];
  }

  private load(group: string): PopState | null {
    const held = this.states.get(group);
    if (held !== undefined) return held;
    const row = this.deps.sql.exec<{ state: string }>("SELECT state FROM pop_group WHERE grp = ?", group).toArray()[0];
    const state = row ? decodePopState(row.state) : null;
    this.hold(group, state);
    return state;
  }

  private hold(group: string, state: PopState | null): void {
    if (this.states.size >= STATE_CACHE_MAX_GROUPS && !this.states.has(group)) this.states.clear();
    this.states.set(group, state);
  }

  private store(group: string, state: PopState, now: number): void {
    this.rowsWritten += this.deps.sql.exec(
      `INSERT INTO pop_group (grp, state, due_at) VALUES (?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET state = excluded.state, due_at = excluded.due_at`,
      group,
      encodePopState(state),
      nextVisibleAt(state, now),
    ).rowsWritten;
    // The state functions never change a state they were given, so memory may share it.
    this.hold(group, state);
  }
}

/** The retry ladder's wait after a delivery numbered `reconsumeTimes` timed out (level 3 + reconsumeTimes). */
export function retryDelayMs(levels: readonly number[], reconsumeTimes: number): number {
  const step = nextRetryStep({ reconsumeTimes, maxReconsumeTimes: Number.MAX_SAFE_INTEGER, maxDelayLevel: levels.length });
  return step.destination === "RETRY" ? delayForLevel(levels, step.delayLevel) : 0;
}

function checkInvisibleDuration(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < Limits.minInvisibleDurationMs || ms > Limits.maxInvisibleDurationMs) {
    throw toRpcError("INVISIBLE_DURATION_ILLEGAL", `invisibleDuration must be ${Limits.minInvisibleDurationMs} to ${Limits.maxInvisibleDurationMs} ms`);
  }
}

function toFilter(expressionType: ExpressionType | undefined, expression: string | undefined): MessageFilter {
  try {
    return buildFilter(expressionType, expression);
  } catch (e) {
    throw isMQError(e) ? toRpcError(e.code, e.message) : e;
  }
}

/** Acks handles of a group's state; a group with no POP state here has only invalid handles. */
function ackOf(state: PopState | null, handles: readonly PopHandle[], now: number): { state: PopState | null; outcomes: HandleOutcome[] } {
  return state ? ack(state, handles, now) : { state, outcomes: handles.map((): HandleOutcome => "RECEIPT_HANDLE_INVALID") };
}

function seenOf(group: string, state: PopState, now: number): PopSeen {
  return { group, inflight: state.inflight.length, dueAt: nextVisibleAt(state, now) };
}

function toPopMessage(entry: LogEntry, handed: InflightMessage): PopMessage {
  return {
    entry,
    nonce: handed.nonce,
    invisibleUntil: handed.invisibleUntil,
    reconsumeTimes: handed.reconsumeTimes,
    firstReceivedAt: handed.firstReceivedAt,
  };
}
