/**
 * The decisions of a push subscription on one queue, pure so they are tested without workerd:
 * when it next has work (`pushDueAt`), which batches a delivery round sends (`planRound`), and
 * what the targets' answers make of its state (`applyRound`).
 *
 * State per (group, queue): the committed offset (the group's consume offset: every message
 * below it was delivered, dead-lettered or filtered out) and a small `PushState`, the failed
 * messages waiting for their retry, each with its attempts and due time, retried in place (not
 * sent back through %RETRY%<group>), so a round writes O(1) rows whatever its size.
 *
 * - Concurrent subscriptions: a round sends up to maxConcurrency batches, due retries first
 *   (oldest offset first), then new messages from the cursor. The cursor passes failed messages
 *   (they are remembered in `retries`, at most Limits.maxPushRetryBacklog; past it no new
 *   messages go out).
 * - Orderly subscriptions: one batch per round, always from the cursor. A failed message stops
 *   the cursor there; the messages after it in the batch come again with it once its retry is
 *   due, so the target sees the queue's messages in offset order.
 *
 * A failed message (named in the answer's `retry`, or in a batch that failed as a whole) waits
 * `retryDelayMs`, or the retry ladder's delay for its reconsumeTimes, and after maxRetries + 1
 * failed deliveries it goes to the dead-letter queue. A batch answered 429 or 503 is not a
 * failure of its messages: the subscription backs off (Retry-After, else 1 s doubling to 60 s)
 * and the batch goes again unchanged.
 */
import type { LogEntry } from "./commit-log.js";

export interface RetryEntry {
  offset: number;
  /** Failed deliveries so far: the reconsumeTimes of its next delivery. */
  attempts: number;
  /** When it may be delivered again. */
  dueAt: number;
}

export interface PushState {
  /** Failed messages waiting for a retry, in offset order. */
  retries: RetryEntry[];
  /** Throttled (429/503) or failing to reach the dead-letter queue: nothing goes out before this. */
  backoffUntil: number;
  /** Throttled rounds in a row (the backoff doubles with each). */
  throttles: number;
  lastDeliveryAt: number | null;
  lastError: { at: number; message: string } | null;
  /** Messages the target took (answered without asking a retry), since the subscription was created. */
  delivered: number;
  deadLettered: number;
}

export const EMPTY_PUSH_STATE: PushState = { retries: [], backoffUntil: 0, throttles: 0, lastDeliveryAt: null, lastError: null, delivered: 0, deadLettered: 0 };

/** What the plan needs of a subscription's settings. */
export interface PushPolicy {
  orderly: boolean;
  maxBatchSize: number;
  maxBatchTimeoutMs: number;
  maxConcurrency: number;
  maxRetries: number;
  /** The wait before the delivery numbered `reconsumeTimes` (the fixed retryDelayMs, or the ladder). */
  delayMs: (reconsumeTimes: number) => number;
  maxRetryBacklog: number;
  maxBatchBytes: number;
  /** Log messages one round inspects at most (filtered-out messages included). */
  maxScan: number;
}

export interface PlanLog {
  /** Messages from `offset` on, in offset order. */
  read(offset: number): Iterable<LogEntry>;
  get(offset: number): LogEntry | undefined;
  readonly minOffset: number;
  readonly maxOffset: number;
}

export interface PushBatchPlan {
  entries: LogEntry[];
  /** Per entry: its failed deliveries so far (its reconsumeTimes in this delivery). */
  attempts: number[];
  /** The range of new messages this batch was cut from (filtered-out ones included), or null for a batch of retries. */
  range: { from: number; to: number } | null;
}

export interface PushRound {
  batches: PushBatchPlan[];
  /** The committed offset the round started from. */
  cursor: number;
  /** Where new messages were read to: the cursor once every new message of the round is done. */
  scannedTo: number;
}

/** When a subscription next has work, or null (nothing to do: no alarm for it). */
export function pushDueAt(state: PushState, cursor: number, log: Pick<PlanLog, "get" | "maxOffset">, policy: PushPolicy, now: number): number | null {
  let due: number | null = null;
  if (policy.orderly && state.retries.length > 0) {
    due = state.retries[0]!.dueAt;
  } else {
    for (const r of state.retries) due = due === null ? r.dueAt : Math.min(due, r.dueAt);
    if (state.retries.length < policy.maxRetryBacklog && cursor < log.maxOffset) {
      const pending = log.maxOffset - cursor;
      const first = log.get(cursor);
      // A message retention removed under the cursor: due now, the round skips past it.
      const fresh = pending >= policy.maxBatchSize || !first ? now : first.storeTimestamp + policy.maxBatchTimeoutMs;
      due = due === null ? fresh : Math.min(due, fresh);
    }
  }
  return due === null ? null : Math.max(due, state.backoffUntil);
}

/** The batches of one delivery round at `now`: empty when nothing is due. */
export function planRound(state: PushState, cursor: number, log: PlanLog, policy: PushPolicy, now: number, matches: (entry: LogEntry) => boolean): PushRound {
  const start = Math.max(cursor, log.minOffset);
  const round: PushRound = { batches: [], cursor, scannedTo: start };
  if (state.backoffUntil > now) return round;
  const attemptsOf = new Map(state.retries.map((r) => [r.offset, r.attempts]));
  if (policy.orderly) {
    if (state.retries.length > 0 && state.retries[0]!.dueAt > now) return round;
    const batch = readNew(log, start, policy, now, matches, (offset) => attemptsOf.get(offset) ?? 0, state.retries.length > 0);
    if (batch && batch.plan.entries.length > 0) round.batches.push(batch.plan);
    round.scannedTo = batch ? batch.to : start;
    return round;
  }
  // Due retries first, oldest first, while batch slots last.
  let current: PushBatchPlan | null = null;
  let bytes = 0;
  for (const r of state.retries) {
    if (r.dueAt > now) continue;
    const entry = log.get(r.offset);
    if (!entry) continue; // retention removed it: applyRound drops it
    if (!current || current.entries.length >= policy.maxBatchSize || bytes + entry.message.body.length > policy.maxBatchBytes) {
      if (round.batches.length >= policy.maxConcurrency) break;
      current = { entries: [], attempts: [], range: null };
      round.batches.push(current);
      bytes = 0;
    }
    current.entries.push(entry);
    current.attempts.push(r.attempts);
    bytes += entry.message.body.length;
  }
  // Then new messages, unless the retry backlog is full.
  let from = start;
  let scanned = 0;
  while (round.batches.length < policy.maxConcurrency && state.retries.length < policy.maxRetryBacklog && from < log.maxOffset && scanned < policy.maxScan) {
    const batch = readNew(log, from, { ...policy, maxScan: policy.maxScan - scanned }, now, matches, () => 0, false);
    if (!batch) break;
    scanned += batch.to - from;
    from = batch.to;
    if (batch.plan.entries.length > 0) round.batches.push(batch.plan);
  }
  round.scannedTo = from;
  return round;
}

/**
 * Reads one batch of messages from `from`: up to maxBatchSize that match (and maxBatchBytes,
 * at least one). Null when the batch should wait: not full, its oldest message younger than
 * maxBatchTimeoutMs, and nothing more in the log to fill it (unless `force`, a due retry).
 * A range of only filtered-out messages is answered with no entries, so the cursor passes it.
 */
function readNew(
  log: PlanLog,
  from: number,
  policy: PushPolicy,
  now: number,
  matches: (entry: LogEntry) => boolean,
  attemptsAt: (offset: number) => number,
  force: boolean,
): { plan: PushBatchPlan; to: number } | null {
  const plan: PushBatchPlan = { entries: [], attempts: [], range: null };
  let to = from;
  let bytes = 0;
  let scanned = 0;
  for (const entry of log.read(from)) {
    if (plan.entries.length >= policy.maxBatchSize || scanned >= policy.maxScan) break;
    if (plan.entries.length > 0 && bytes + entry.message.body.length > policy.maxBatchBytes) break;
    scanned++;
    to = entry.queueOffset + 1;
    if (!matches(entry)) continue;
    plan.entries.push(entry);
    plan.attempts.push(attemptsAt(entry.queueOffset));
    bytes += entry.message.body.length;
  }
  if (to === from) return null;
  plan.range = { from, to };
  const full = plan.entries.length >= policy.maxBatchSize || bytes >= policy.maxBatchBytes || to < log.maxOffset;
  const oldest = plan.entries[0];
  if (!force && !full && oldest && oldest.storeTimestamp + policy.maxBatchTimeoutMs > now) return null;
  return { plan, to };
}

/** How one batch was answered. */
export type BatchOutcome =
  { kind: "answered"; retry: ReadonlySet<string> } | { kind: "failed"; error: string } | { kind: "throttled"; error: string; retryAfterMs: number | null };

export interface DeadLetter {
  entry: LogEntry;
  /** Failed deliveries (maxRetries + 1). */
  attempts: number;
}

export interface AppliedRound {
  state: PushState;
  cursor: number;
  deadLetters: DeadLetter[];
}

/** A throttled subscription waits 1 s, doubling each time, up to 60 s; a Retry-After (≤ 5 min) wins. */
export function throttleBackoffMs(throttles: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null && retryAfterMs >= 0) return Math.min(retryAfterMs, 300_000);
  return Math.min(60_000, 1000 * 2 ** Math.min(Math.max(0, throttles - 1), 6));
}

/** The state after a round's answers (`outcomes[i]` answers `round.batches[i]`). */
export function applyRound(state: PushState, round: PushRound, outcomes: readonly BatchOutcome[], policy: PushPolicy, now: number): AppliedRound {
  const retries = new Map(state.retries.map((r) => [r.offset, r]));
  const deadLetters: DeadLetter[] = [];
  let delivered = state.delivered;
  let answered = false;
  let throttled: { error: string; retryAfterMs: number | null } | null = null;
  let error: string | null = null;
  // New messages of a throttled batch are not done: the cursor stops before the first of them,
  // and the outcomes of later new messages are ignored (they go again; at least once).
  let commitTo = round.scannedTo;
  round.batches.forEach((b, i) => {
    const o = outcomes[i]!;
    if (o.kind === "throttled" && b.range) commitTo = Math.min(commitTo, b.range.from);
  });

  if (policy.orderly) {
    const batch = round.batches[0];
    const o = outcomes[0];
    if (!batch || !o) return finish(round.scannedTo);
    if (o.kind === "throttled") return finish(round.cursor, o);
    answered = o.kind === "answered";
    const failedSet = o.kind === "answered" ? o.retry : null;
    const failed = batch.entries.map((e) => failedSet === null || failedSet.has(e.message.msgId));
    error = o.kind === "failed" ? o.error : failed.some(Boolean) ? retryError(failed.filter(Boolean).length, batch.entries.length) : null;
    retries.clear();
    let stopAt: number | null = null;
    batch.entries.forEach((entry, i) => {
      if (stopAt !== null) {
        if (failed[i] || batch.attempts[i]! > 0)
          retries.set(entry.queueOffset, { offset: entry.queueOffset, attempts: batch.attempts[i]! + (failed[i] ? 1 : 0), dueAt: 0 });
        return;
      }
      if (!failed[i]) {
        delivered++;
        return;
      }
      const attempts = batch.attempts[i]! + 1;
      if (attempts > policy.maxRetries) {
        deadLetters.push({ entry, attempts });
        return;
      }
      stopAt = entry.queueOffset;
      retries.set(entry.queueOffset, { offset: entry.queueOffset, attempts, dueAt: 0 });
    });
    if (stopAt === null) {
      retries.clear();
      return finish(round.scannedTo);
    }
    // The whole queue waits for its head's retry.
    const head = retries.get(stopAt)!;
    const dueAt = now + policy.delayMs(head.attempts - 1);
    for (const r of retries.values()) r.dueAt = dueAt;
    return finish(stopAt);
  }

  round.batches.forEach((batch, i) => {
    const o = outcomes[i]!;
    if (o.kind === "throttled") {
      throttled = o;
      return;
    }
    if (o.kind === "answered") answered = true;
    let failures = 0;
    batch.entries.forEach((entry, j) => {
      const offset = entry.queueOffset;
      const isNew = !retries.has(offset);
      if (isNew && offset >= commitTo) return; // goes again from the cursor
      const failed = o.kind === "failed" || o.retry.has(entry.message.msgId);
      if (!failed) {
        retries.delete(offset);
        delivered++;
        return;
      }
      failures++;
      const attempts = batch.attempts[j]! + 1;
      if (attempts > policy.maxRetries) {
        retries.delete(offset);
        deadLetters.push({ entry, attempts });
      } else {
        retries.set(offset, { offset, attempts, dueAt: now + policy.delayMs(attempts - 1) });
      }
    });
    if (o.kind === "failed") error = o.error;
    else if (failures > 0) error = retryError(failures, batch.entries.length);
  });
  return finish(commitTo, throttled ?? undefined);

  function finish(cursor: number, throttle?: { error: string; retryAfterMs: number | null }): AppliedRound {
    const throttles = throttle ? state.throttles + 1 : 0;
    const lastError = throttle ? { at: now, message: throttle.error } : error !== null ? { at: now, message: error } : state.lastError;
    const next: PushState = {
      retries: [...retries.values()].sort((a, b) => a.offset - b.offset),
      backoffUntil: throttle ? now + throttleBackoffMs(throttles, throttle.retryAfterMs) : 0,
      throttles,
      lastDeliveryAt: answered ? now : state.lastDeliveryAt,
      lastError,
      delivered,
      deadLettered: state.deadLettered + deadLetters.length,
    };
    return { state: next, cursor: Math.max(round.cursor, cursor), deadLetters };
  }
}

function retryError(failures: number, size: number): string {
  return `the target asked to retry ${failures} of ${size} messages`;
}

/** Drops waiting retries of messages the log no longer holds (retention): they cannot be delivered. */
export function dropExpiredRetries(state: PushState, minOffset: number): PushState {
  if (!state.retries.some((r) => r.offset < minOffset)) return state;
  return { ...state, retries: state.retries.filter((r) => r.offset >= minOffset) };
}
