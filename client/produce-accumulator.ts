/**
 * The producer's auto-batching (RocketMQ 5's produce accumulator, Kafka's linger): single sends
 * of one topic that are ready at the same time travel in one multi-queue request.
 *
 * Natural batching: a topic has at most `maxRequestsInFlight` requests in flight (default 1),
 * and a queue at most one. A send to an idle topic goes at once (on the next microtask, so
 * sends issued together share the request); sends issued while a request is in flight wait and
 * ride the next request, which leaves as soon as one is answered. A batch that reaches the
 * caps does not wait: waiting would only delay it. A request carries every waiting queue that
 * has none in flight, up to the caps, so a producer spread over 8 queues sends one request for
 * 8 ready messages. One request in flight per queue also keeps each queue's sends in issue order.
 *
 * Waiting is what makes batches: at 1,000 sends a second and a 13 ms round trip, one request
 * carries 13 messages, stored as one log row, where a request per queue in flight carried one
 * or two. `fillingQueue` lets the producer put unkeyed sends on the queue already filling
 * (Kafka's sticky partitioner), so the waiting sends make one queue's row, not eight.
 *
 * `holdMs` > 0 adds a linger, as Kafka's linger.ms: waiting sends leave once the oldest of them
 * has waited `holdMs` (and a request may leave), or at once when they reach the caps. The
 * request in flight answering does not cut the linger short, so a busy topic's requests carry
 * what arrives over `holdMs`, not over one round trip: fewer, larger requests, for that latency.
 *
 * Each send settles on its own: the request function answers one outcome per send, and a
 * failed request fails only the sends it carried. Time and the request itself are injected,
 * so this file is pure logic, tested without a server or real timers.
 */
import type { MessageQueue, SendResult } from "../protocol/message.js";
import type { MessageIn } from "../protocol/schemas.js";

export interface AccumulatorLimits {
  /** Hold time before a request leaves an idle topic; 0 sends at once. */
  holdMs: number;
  /** Most messages in one request. */
  maxMessages: number;
  /** Most body bytes in one request (a single larger message still goes, alone). */
  maxBytes: number;
  /** Requests of one topic in flight at once, unless the waiting sends fill a request; default 1. */
  maxRequestsInFlight?: number;
}

/** One single-message send waiting for, or riding, a request. */
export interface PendingSend {
  mq: MessageQueue;
  message: MessageIn;
  /** The message's body as bytes when the caller gave bytes (`message` carries them base64). */
  body?: Uint8Array;
  /** Body bytes, counted against `maxBytes`. */
  bytes: number;
  /** Epoch ms after which the send's caller no longer waits (bounds the request's timeout). */
  deadline: number;
}

export type SendOutcome = { ok: true; result: SendResult } | { ok: false; error: unknown };

export interface AccumulatorDeps {
  /**
   * Sends one request carrying `sends` (all of `topic`, grouped by queue in this order) and
   * answers one outcome per send, in order. A rejection fails every send it carried.
   */
  request(topic: string, sends: readonly PendingSend[]): Promise<SendOutcome[]>;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Runs `fn` once the current synchronous work is done; default queueMicrotask. */
  defer?: (fn: () => void) => void;
  /** The clock of the linger, epoch ms; default Date.now. */
  now?: () => number;
}

interface Waiting extends PendingSend {
  resolve(result: SendResult): void;
  reject(error: unknown): void;
  /** When it started waiting (the linger counts from the oldest). */
  since: number;
}

interface TopicState {
  /** Waiting sends per queue, queues in the order they started waiting. */
  waiting: Map<string, Waiting[]>;
  inFlight: Set<string>;
  /** Requests of this topic in flight. */
  requests: number;
  timer: unknown;
  deferred: boolean;
}

export function queueKey(mq: MessageQueue): string {
  return `${mq.brokerName}\u0000${mq.queueId}`;
}

export class ProduceAccumulator {
  private readonly topics = new Map<string, TopicState>();
  private readonly requests = new Set<Promise<void>>();
  private readonly defer: (fn: () => void) => void;
  /** Off while the producer shuts down: nothing waits for the hold time then. */
  private holding = true;
  /** Requests sent and messages they carried, for metrics and the bench. */
  readonly stats = { requests: 0, messages: 0 };

  constructor(
    private readonly limits: AccumulatorLimits,
    private readonly deps: AccumulatorDeps,
  ) {
    // Called as a plain function: browsers refuse queueMicrotask called on another object
    // ("Illegal invocation"), which `this.defer(fn)` would be.
    this.defer = deps.defer ?? ((fn) => queueMicrotask(fn));
    this.now = deps.now ?? Date.now;
  }

  private readonly now: () => number;

  /** Queues one send; resolves with its own SendResult or rejects with its own error. */
  add(send: PendingSend): Promise<SendResult> {
    const state = this.state(send.mq.topic);
    return new Promise<SendResult>((resolve, reject) => {
      const key = queueKey(send.mq);
      const list = state.waiting.get(key);
      const waiting = { ...send, resolve, reject, since: this.now() };
      if (list) list.push(waiting);
      else state.waiting.set(key, [waiting]);
      this.schedule(send.mq.topic, state);
    });
  }

  /** With false (shutdown), sends go as if `holdMs` were 0, and what waits for the timer goes now. */
  setHolding(on: boolean): void {
    this.holding = on;
    if (!on) for (const [topic, state] of this.topics) if (state.timer !== undefined) this.flush(topic, state);
  }

  /** Sends everything waiting now (ignoring the hold time) and resolves once every request is answered. */
  async drain(): Promise<void> {
    for (;;) {
      for (const [topic, state] of this.topics) this.flush(topic, state);
      if (this.requests.size === 0) return;
      await Promise.allSettled([...this.requests]);
    }
  }

  /**
   * Whether a send of `topic` issued now would wait: for a request in flight, or for the
   * linger's timer (not merely for the microtask that sends what was issued together).
   */
  holdsSends(topic: string): boolean {
    const state = this.topics.get(topic);
    return state !== undefined && (state.requests > 0 || state.timer !== undefined);
  }

  /**
   * The queue of `topic` whose sends are waiting for a request in flight to be answered, while
   * it has room: an unkeyed send that joins it rides the next request instead of starting a
   * row of its own. None while nothing is in flight: sends issued together then keep their
   * round-robin queues (and share one request), as RocketMQ spreads them.
   */
  fillingQueue(topic: string): MessageQueue | undefined {
    const state = this.topics.get(topic);
    if (!state || !this.holdsSends(topic) || state.waiting.size === 0) return undefined;
    let last: Waiting[] | undefined;
    for (const list of state.waiting.values()) last = list;
    if (!last || last.length === 0 || last.length >= this.limits.maxMessages) return undefined;
    let bytes = 0;
    for (const s of last) bytes += s.bytes;
    return bytes < this.limits.maxBytes ? last[0]!.mq : undefined;
  }

  /** Sends waiting (not yet in a request), for tests and metrics. */
  get waitingCount(): number {
    let n = 0;
    for (const state of this.topics.values()) for (const list of state.waiting.values()) n += list.length;
    return n;
  }

  private state(topic: string): TopicState {
    let state = this.topics.get(topic);
    if (!state) {
      state = { waiting: new Map(), inFlight: new Set(), requests: 0, timer: undefined, deferred: false };
      this.topics.set(topic, state);
    }
    return state;
  }

  private schedule(topic: string, state: TopicState): void {
    if (this.limits.holdMs <= 0 || !this.holding) {
      if (state.deferred) return;
      state.deferred = true;
      this.defer(() => this.flush(topic, state));
      return;
    }
    if (this.readyReachesCaps(state)) {
      this.flush(topic, state);
      return;
    }
    if (state.timer === undefined) state.timer = this.deps.setTimer(() => this.flush(topic, state), this.limits.holdMs);
  }

  /** True when the sends that could leave now fill a request. */
  private readyReachesCaps(state: TopicState): boolean {
    let count = 0;
    let bytes = 0;
    for (const [key, list] of state.waiting) {
      if (state.inFlight.has(key)) continue;
      count += list.length;
      for (const s of list) bytes += s.bytes;
    }
    return count >= this.limits.maxMessages || bytes >= this.limits.maxBytes;
  }

  /**
   * Sends the waiting sends whose queue has no request in flight, in as many requests as the
   * caps need: while the topic is under its requests in flight, or as full requests.
   */
  private flush(topic: string, state: TopicState): void {
    state.deferred = false;
    if (state.timer !== undefined) {
      this.deps.clearTimer(state.timer);
      state.timer = undefined;
    }
    const maxRequests = this.limits.maxRequestsInFlight ?? 1;
    for (;;) {
      if (state.requests >= maxRequests && !this.readyReachesCaps(state)) break;
      const { sends, keys } = this.take(state);
      if (sends.length === 0) break;
      for (const key of keys) state.inFlight.add(key);
      state.requests++;
      const running: Promise<void> = this.run(topic, state, sends, keys).finally(() => this.requests.delete(running));
      this.requests.add(running);
    }
    this.forgetIfIdle(topic, state);
  }

  /** Drops an idle topic's state (a late deferred flush of a dropped state leaves a newer one alone). */
  private forgetIfIdle(topic: string, state: TopicState): void {
    if (state.waiting.size === 0 && state.inFlight.size === 0 && this.topics.get(topic) === state) this.topics.delete(topic);
  }

  /** The next request: whole queues in waiting order, then part of the queue that reaches a cap. */
  private take(state: TopicState): { sends: Waiting[]; keys: string[] } {
    const sends: Waiting[] = [];
    const keys: string[] = [];
    let bytes = 0;
    for (const [key, list] of state.waiting) {
      if (state.inFlight.has(key)) continue;
      let n = 0;
      while (n < list.length && sends.length < this.limits.maxMessages) {
        const next = list[n]!;
        if (sends.length > 0 && bytes + next.bytes > this.limits.maxBytes) break;
        sends.push(next);
        bytes += next.bytes;
        n++;
      }
      const partial = n < list.length;
      if (n > 0) {
        keys.push(key);
        if (partial) list.splice(0, n);
        else state.waiting.delete(key);
      }
      if (partial || sends.length >= this.limits.maxMessages) break;
    }
    return { sends, keys };
  }

  private async run(topic: string, state: TopicState, sends: Waiting[], keys: string[]): Promise<void> {
    this.stats.requests++;
    this.stats.messages += sends.length;
    let outcomes: SendOutcome[];
    try {
      outcomes = await this.deps.request(topic, sends);
    } catch (e) {
      outcomes = sends.map(() => ({ ok: false, error: e }));
    }
    sends.forEach((s, i) => {
      const outcome = outcomes[i] ?? { ok: false, error: new Error("the answer lists fewer results than the request carried") };
      if (outcome.ok) s.resolve(outcome.result);
      else s.reject(outcome.error);
    });
    for (const key of keys) state.inFlight.delete(key);
    state.requests--;
    // Sends that waited behind this request go now, or once their linger is over.
    if (state.waiting.size > 0) this.flushAfterLinger(topic, state);
    else this.forgetIfIdle(topic, state);
  }

  /** Flushes now if the oldest waiting send has lingered `holdMs` (or the caps are reached), else when it will have. */
  private flushAfterLinger(topic: string, state: TopicState): void {
    if (this.limits.holdMs <= 0 || !this.holding || this.readyReachesCaps(state)) return this.flush(topic, state);
    let oldest = Infinity;
    for (const list of state.waiting.values()) if (list[0]) oldest = Math.min(oldest, list[0].since);
    const leftMs = oldest + this.limits.holdMs - this.now();
    if (leftMs <= 0) return this.flush(topic, state);
    if (state.timer === undefined) state.timer = this.deps.setTimer(() => this.flush(topic, state), leftMs);
  }
}
