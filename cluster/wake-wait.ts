/**
 * Waiting for an object without keeping it awake: the Worker side of every long poll.
 *
 * A Durable Object is billed for wall time while a request to it is in progress, so a long poll
 * parked inside an object keeps it awake, and billed, for as long as the client waits. Instead
 * the Worker holds the client's long poll (a Worker is billed for CPU, not wall time): it asks
 * the object for an immediate answer, and when there is nothing yet it opens a WebSocket to the
 * object, which the object accepts with the WebSocket Hibernation API
 * (durable-objects/shared/wake-sockets.ts) and so may hibernate while the socket stays open. The
 * object sends "wake" on the sockets when something arrives (and closes them); the Worker's own
 * timer ends the wait when the client's time is up. Then the Worker asks again: a fresh call, so
 * every answer is checked afresh (a queue re-checks its owner on every pull).
 *
 * No lost wake-up: the upgrade carries what the caller last saw (`seen`, e.g. the queue's
 * maxOffset), and an object for which that is already stale answers "wake" at once instead of
 * parking the socket.
 *
 * This file is the wire between the two sides (headers, messages) and the one loop every waiting
 * path uses (`holdPoll`); cluster/long-polls.ts has the three paths built on it.
 */
import { isErrorCode } from "../protocol/errors.js";
import { toRpcError } from "./rpc-errors.js";

/** The caller's account (URI-encoded): parked places are shared fairly between accounts. */
export const WAKE_ACCOUNT_HEADER = "x-flaremq-wake-account";
/** What the caller last saw, as URI-encoded JSON; each object says what it expects. */
export const WAKE_SEEN_HEADER = "x-flaremq-wake-seen";
/** Sent by the object when something changed: ask again. */
export const WAKE_MESSAGE = "wake";
/** Sent by the object to a waiter it let go early to make room for another account's: end the wait. */
export const RELEASED_MESSAGE = "released";

/**
 * How a wait ended: woken (ask again), released early (answer as timed out), timed out, or the
 * socket closed without a word (the object restarted or was moved: ask once more, then answer).
 */
export type WakeReason = "wake" | "released" | "timeout" | "closed";

/** What an object's upgrade answer is: the stub's fetch, as the objects are reached from cluster/stubs.ts. */
export interface WakeTarget {
  fetch(input: string, init: RequestInit): Promise<Response>;
}

/**
 * Parks on `target` until it sends a wake-up or `timeoutMs` passes. A refusal (TOO_MANY_WAITERS)
 * is thrown as a coded RPC error, as if the object had thrown it from a method.
 */
export async function waitForWake(target: WakeTarget, seen: unknown, options: { timeoutMs: number; account: string }): Promise<WakeReason> {
  const res = await target.fetch("https://object/wake", {
    // URI-encoded: a header carries only Latin-1, and a client id may be any text.
    headers: { Upgrade: "websocket", [WAKE_ACCOUNT_HEADER]: encodeURIComponent(options.account), [WAKE_SEEN_HEADER]: encodeURIComponent(JSON.stringify(seen)) },
  });
  const ws = res.webSocket;
  if (res.status !== 101 || !ws) {
    const text = await res.text();
    if (res.ok && text === WAKE_MESSAGE) return "wake"; // what the caller saw is already stale
    let coded: { code?: unknown; message?: unknown } | null = null;
    try {
      coded = JSON.parse(text) as { code?: unknown; message?: unknown };
    } catch {
      // not a coded refusal
    }
    if (isErrorCode(coded?.code) && typeof coded.message === "string") throw toRpcError(coded.code, coded.message);
    throw new Error(`wake-up socket refused: HTTP ${res.status} ${text.slice(0, 200)}`);
  }
  ws.accept();
  return new Promise<WakeReason>((resolve) => {
    let done = false;
    const finish = (reason: WakeReason) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        ws.close(1000, reason);
      } catch {
        // already closed by the object
      }
      resolve(reason);
    };
    const timer = setTimeout(() => finish("timeout"), options.timeoutMs);
    ws.addEventListener("message", (event) => finish(event.data === RELEASED_MESSAGE ? "released" : "wake"));
    ws.addEventListener("close", () => finish("closed"));
    ws.addEventListener("error", () => finish("closed"));
  });
}

export interface HoldOptions {
  /** How long the client lets the poll wait in total. */
  maxWaitMs: number;
  /** The caller's access key ("" when the server has no accounts). */
  account: string;
  /** Clock, injectable for tests; default Date.now. */
  now?: () => number;
}

export interface HoldSteps<T> {
  /** One immediate call to the object. */
  ask(): Promise<T>;
  /** Whether an answer ends the poll now. */
  answered(answer: T): boolean;
  /** What the caller saw in an answer that did not end the poll, for the object's staleness check. */
  seen(answer: T): unknown;
  /** The poll's answer when its time runs out (or it is released) after `last`. */
  empty(last: T): T;
}

/**
 * Asks, and while the answer is not one to return and time remains, parks on the object and asks
 * again when woken. The object holds no request and no timer meanwhile.
 */
export async function holdPoll<T>(target: WakeTarget, steps: HoldSteps<T>, options: HoldOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.maxWaitMs;
  for (;;) {
    const answer = await steps.ask();
    if (steps.answered(answer)) return answer;
    const remainingMs = deadline - now();
    if (remainingMs <= 0) return steps.empty(answer);
    const reason = await waitForWake(target, steps.seen(answer), { timeoutMs: remainingMs, account: options.account });
    if (reason === "timeout" || reason === "released") return steps.empty(answer);
    if (reason === "closed") {
      // The object went away (a deploy, a move): one more look, then answer, rather than risk
      // spinning on an object that keeps closing. The client polls again.
      const last = await steps.ask();
      return steps.answered(last) ? last : steps.empty(last);
    }
  }
}
