/**
 * POP (RocketMQ 5.x SimpleConsumer) state of one group on one queue, as pure functions: which
 * messages a receive hands out, what an ack or a change of invisibility does to a handle, and
 * when the state next changes by itself. pop.ts stores it as ONE row per group and queue, so a
 * receive of 32 messages writes one row and a batch ack writes one row, never one per message.
 *
 * The state is a cursor (the first offset never handed out) and the in-flight messages: handed
 * out and not acked. Each in-flight message has the delivery's nonce (which handle is current),
 * `invisibleUntil` (its handle is valid until then; HTTP's NextConsumeTime) and `visibleAt` (when
 * a receive may hand it out again: invisibleUntil plus the retry ladder's delay by default, or
 * exactly invisibleUntil after changeInvisibleDuration or with `retryLadder: false`).
 */
import type { MessageFilter } from "../../protocol/message-filter.js";
import type { LogEntry } from "./commit-log.js";

/** RocketMQ 5.x's message group (FIFO sharding key) property. */
export const SHARDING_KEY_PROPERTY = "__SHARDINGKEY";

export interface InflightMessage {
  offset: number;
  nonce: number;
  invisibleUntil: number;
  visibleAt: number;
  /** Deliveries before this one (0 on the first). */
  reconsumeTimes: number;
  /** First delivery to this group (HTTP's FirstConsumeTime). */
  firstReceivedAt: number;
  /** The message group of an orderly group's message ("" when it has none). */
  key?: string;
}

export interface PopState {
  cursor: number;
  /** Last nonce given out; every delivery and change takes the next. */
  nonce: number;
  inflight: InflightMessage[];
}

export interface ReceiveOptions {
  now: number;
  maxNum: number;
  invisibleDurationMs: number;
  filter: MessageFilter;
  /** Orderly group: a message group's next message waits while an earlier one is in flight. */
  orderly: boolean;
  /** Redeliveries past which a message is no longer handed out but claimed for the dead-letter queue. */
  maxReconsumeTimes: number;
  /** How long a claim for the dead-letter queue holds before another receive may claim the message again. */
  deadLetterClaimMs: number;
  /** Delay added after invisibleUntil before redelivery, by reconsumeTimes (the retry ladder); 0 for none. */
  retryDelayMs: (reconsumeTimes: number) => number;
  maxInflight: number;
  /** Most log messages one receive inspects (bounded work when a filter matches little). */
  maxScan: number;
  /** The log's lowest offset: in-flight messages below it were removed by retention. */
  minOffset: number;
}

/** The commit log as a receive reads it. */
export interface LogSource {
  /** Messages from `offset` on, in offset order. */
  read(offset: number): Iterable<LogEntry>;
  get(offset: number): LogEntry | undefined;
}

export interface Received {
  entry: LogEntry;
  handed: InflightMessage;
}

export interface ReceiveResult {
  state: PopState;
  received: Received[];
  /**
   * Messages past maxReconsumeTimes, claimed (a new nonce, invisible for deadLetterClaimMs) for
   * the caller to append to the dead-letter queue and then ack; a claim not acked lapses and the
   * next receive claims the message again, so none is lost (at least once).
   */
  deadLetters: Received[];
  /** Whether the state changed (and must be written). */
  changed: boolean;
}

/** Hands out up to maxNum visible messages: due redeliveries first (oldest first), then new ones. */
export function receive(prev: PopState, log: LogSource, o: ReceiveOptions): ReceiveResult {
  const state: PopState = { cursor: Math.max(prev.cursor, o.minOffset), nonce: prev.nonce, inflight: prev.inflight.filter((m) => m.offset >= o.minOffset) };
  let changed = state.cursor !== prev.cursor || state.inflight.length !== prev.inflight.length;
  const received: Received[] = [];
  // Message groups with a message in flight and not yet visible: nothing more of them goes out.
  const blocked = new Set(o.orderly ? state.inflight.filter((m) => m.visibleAt > o.now).map((m) => m.key ?? "") : []);
  const hand = (entry: LogEntry, before: InflightMessage | undefined): InflightMessage => {
    state.nonce += 1;
    const invisibleUntil = o.now + o.invisibleDurationMs;
    const reconsumeTimes = before ? before.reconsumeTimes + 1 : 0;
    const handed: InflightMessage = {
      offset: entry.queueOffset,
      nonce: state.nonce,
      invisibleUntil,
      visibleAt: invisibleUntil + o.retryDelayMs(reconsumeTimes),
      reconsumeTimes,
      firstReceivedAt: before?.firstReceivedAt ?? o.now,
      ...(o.orderly ? { key: entry.message.properties[SHARDING_KEY_PROPERTY] ?? "" } : {}),
    };
    received.push({ entry, handed });
    changed = true;
    return handed;
  };

  // Redeliveries, oldest first. In an orderly group an earlier redelivery of a key blocks later ones.
  const byOffset = [...state.inflight].sort((a, b) => a.offset - b.offset);
  const next = new Map<number, InflightMessage>();
  const deadLetters: Received[] = [];
  for (const m of byOffset) {
    const key = m.key ?? "";
    if (m.visibleAt <= o.now && m.reconsumeTimes >= o.maxReconsumeTimes) {
      const entry = log.get(m.offset);
      if (!entry) continue;
      state.nonce += 1;
      const until = o.now + o.deadLetterClaimMs;
      const claimed: InflightMessage = { ...m, nonce: state.nonce, invisibleUntil: until, visibleAt: until };
      next.set(m.offset, claimed);
      deadLetters.push({ entry, handed: claimed });
      changed = true;
      blocked.add(key); // an orderly group's later messages wait until it has gone to the DLQ
      continue;
    }
    const due = m.visibleAt <= o.now;
    if (!due || received.length >= o.maxNum || (o.orderly && blocked.has(key))) {
      if (o.orderly && m.visibleAt <= o.now) blocked.add(key); // held back: later ones of its key wait
      continue;
    }
    const entry = log.get(m.offset);
    if (!entry) continue; // below minOffset: retention removed it, and the state drops it
    next.set(m.offset, hand(entry, m));
  }
  state.inflight = state.inflight.map((m) => next.get(m.offset) ?? m);

  // New messages from the cursor; filtered-out ones count as consumed (the cursor passes them).
  let scanned = 0;
  if (received.length < o.maxNum && state.inflight.length < o.maxInflight) {
    for (const entry of log.read(state.cursor)) {
      if (received.length >= o.maxNum || scanned >= o.maxScan || state.inflight.length >= o.maxInflight) break;
      const key = entry.message.properties[SHARDING_KEY_PROPERTY] ?? "";
      // An orderly group stops at a blocked key: the cursor may not pass a message it holds back.
      if (o.orderly && blocked.has(key)) break;
      scanned++;
      state.cursor = entry.queueOffset + 1;
      changed = true;
      if (!o.filter.matches(entry.message)) continue;
      state.inflight.push(hand(entry, undefined));
    }
  }
  return { state, received, deadLetters, changed };
}

/** What became of one handle of an ack or a change. */
export type HandleOutcome = "OK" | "RECEIPT_HANDLE_EXPIRED" | "RECEIPT_HANDLE_INVALID";

/**
 * Whether a handle names the current delivery of an in-flight message, and still in time. A
 * handle of an earlier delivery of a message in flight expired (it was received again); one of
 * a message no longer in flight (acked, or never handed out) is invalid.
 */
export function checkHandle(state: PopState, offset: number, nonce: number, now: number): HandleOutcome {
  const m = state.inflight.find((x) => x.offset === offset);
  if (!m || nonce > m.nonce) return "RECEIPT_HANDLE_INVALID";
  if (nonce < m.nonce || now >= m.invisibleUntil) return "RECEIPT_HANDLE_EXPIRED";
  return "OK";
}

/** Removes the acked messages of valid handles; the others change nothing. */
export function ack(prev: PopState, handles: readonly { offset: number; nonce: number }[], now: number): { state: PopState; outcomes: HandleOutcome[] } {
  const outcomes = handles.map((h) => checkHandle(prev, h.offset, h.nonce, now));
  const acked = new Set(handles.filter((_, i) => outcomes[i] === "OK").map((h) => h.offset));
  return { state: acked.size === 0 ? prev : { ...prev, inflight: prev.inflight.filter((m) => !acked.has(m.offset)) }, outcomes };
}

/**
 * A receiver's new invisible time for a held message: a new delivery (new nonce, so the old
 * handle is spent) invisible until now + durationMs and visible again exactly then.
 */
export function changeInvisible(
  prev: PopState,
  handle: { offset: number; nonce: number },
  durationMs: number,
  now: number,
): { state: PopState; outcome: HandleOutcome; changed?: InflightMessage } {
  const outcome = checkHandle(prev, handle.offset, handle.nonce, now);
  if (outcome !== "OK") return { state: prev, outcome };
  const nonce = prev.nonce + 1;
  let changed: InflightMessage | undefined;
  const inflight = prev.inflight.map((m) =>
    m.offset === handle.offset ? (changed = { ...m, nonce, invisibleUntil: now + durationMs, visibleAt: now + durationMs }) : m,
  );
  return { state: { ...prev, nonce, inflight }, outcome, changed: changed! };
}

/** The next time a message of this state becomes visible after `now`, or null: when the alarm wakes receivers. */
export function nextVisibleAt(state: PopState, now: number): number | null {
  let next: number | null = null;
  for (const m of state.inflight) if (m.visibleAt > now && (next === null || m.visibleAt < next)) next = m.visibleAt;
  return next;
}
