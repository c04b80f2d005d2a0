/**
 * What an object is doing, counted where it runs: calls in progress now, how often it went from
 * idle to busy, and the wall time it spent with at least one call in progress. That busy time is
 * what Cloudflare bills as duration: an object with no call in progress, no timer and only
 * hibernatable sockets may hibernate, and is not billed while it does (docs/performance.md,
 * "Idle cost").
 *
 * `trackActivity(Class)` counts every method of an object class: its RPC methods, fetch, alarm
 * and the socket handlers alike. A method calling another of the same object adds no busy time
 * (it runs while the caller is in progress), so the figures hold however the class is split
 * into methods. The exception is a method the constructor calls: an object woken from
 * hibernation is constructed again just before the call that woke it, and counting its
 * constructor's calls would count that wake-up twice; such methods are named in `notCounted`.
 *
 * Read by the idle-cost test, per object (`activityOf(instance)` inside runInDurableObject), and
 * by the benchmark, per class and summed over the isolate (`activityTotals()`, served under the
 * test configuration at GET /_test/activity; the local server runs every object in one isolate).
 */

import { meterStorage } from "./storage-meter.js";

export interface Activity {
  /** Calls in progress now. */
  inFlight: number;
  /** Times a call started while none was in progress: at least one request each. */
  activations: number;
  /** Wall time with at least one call in progress, in ms (up to now for a call still running). */
  busyMs: number;
}

interface Tracked extends Activity {
  className: string;
  busySince: number;
}

const byObject = new WeakMap<object, Tracked>();
/** Per class: what its objects in this isolate did, summed; objects that left memory included. */
const byClass = new Map<string, Activity & { objects: number }>();
/**
 * Per class, the calls the runtime makes on its own (each a billed request on Cloudflare, a
 * WebSocket message at 20:1): alarm runs and hibernatable WebSocket events. Requests made
 * through a stub are counted where the stub is (cluster/request-meter.ts).
 */
const RUNTIME_HANDLERS = ["alarm", "webSocketMessage", "webSocketClose", "webSocketError"];
const handlerCalls = new Map<string, Record<string, number>>();

interface Metered {
  ctx?: { storage?: DurableObjectStorage };
  env?: { TEST_FAULTS_ENABLED?: string };
}

function tracked(instance: object, className: string): Tracked {
  let t = byObject.get(instance);
  if (!t) {
    t = { className, inFlight: 0, activations: 0, busyMs: 0, busySince: 0 };
    byObject.set(instance, t);
    classTotals(className).objects++;
    // Billing meters only under the test configuration (the benchmark's cost figures).
    const { ctx, env } = instance as Metered;
    if (env?.TEST_FAULTS_ENABLED === "true" && ctx?.storage) meterStorage(className, ctx.storage);
  }
  return t;
}

function countHandler(className: string, name: string): void {
  let calls = handlerCalls.get(className);
  if (!calls) handlerCalls.set(className, (calls = {}));
  calls[name] = (calls[name] ?? 0) + 1;
}

function classTotals(className: string): Activity & { objects: number } {
  let c = byClass.get(className);
  if (!c) {
    c = { inFlight: 0, activations: 0, busyMs: 0, objects: 0 };
    byClass.set(className, c);
  }
  return c;
}

function begin(t: Tracked): void {
  const c = classTotals(t.className);
  if (t.inFlight++ === 0) {
    t.activations++;
    c.activations++;
    t.busySince = Date.now();
  }
  c.inFlight++;
}

function end(t: Tracked): void {
  const c = classTotals(t.className);
  c.inFlight--;
  if (--t.inFlight === 0) {
    const ms = Date.now() - t.busySince;
    t.busyMs += ms;
    c.busyMs += ms;
  }
}

/**
 * Counts every call to an object of `cls` but those to the methods in `notCounted` (its
 * constructor's helpers, see above). Call once, after the class.
 */
export function trackActivity(cls: { readonly name: string; readonly prototype: object }, notCounted: readonly string[] = []): void {
  const proto = cls.prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (name === "constructor" || notCounted.includes(name) || !d || typeof d.value !== "function") continue;
    const method = d.value as (this: object, ...args: unknown[]) => unknown;
    const isHandler = RUNTIME_HANDLERS.includes(name);
    const counted = function (this: object, ...args: unknown[]): unknown {
      const t = tracked(this, cls.name);
      if (isHandler) countHandler(cls.name, name);
      begin(t);
      let result: unknown;
      try {
        result = method.apply(this, args);
      } catch (e) {
        end(t);
        throw e;
      }
      if (result instanceof Promise) return result.finally(() => end(t));
      end(t);
      return result;
    };
    Object.defineProperty(counted, "name", { value: name });
    Object.defineProperty(proto, name, { ...d, value: counted });
  }
}

/** One object's activity so far (zeros for an object never called). */
export function activityOf(instance: object): Activity {
  const t = byObject.get(instance);
  if (!t) return { inFlight: 0, activations: 0, busyMs: 0 };
  const running = t.inFlight > 0 ? Date.now() - t.busySince : 0;
  return { inFlight: t.inFlight, activations: t.activations, busyMs: t.busyMs + running };
}

/** Every tracked class's activity in this isolate, by class name (busy time of the busy spans that ended). */
export function activityTotals(): Record<string, Activity & { objects: number }> {
  return Object.fromEntries([...byClass].map(([name, c]) => [name, { ...c }]));
}

/** Alarm runs and WebSocket events per class in this isolate (counted under any configuration). */
export function handlerCallTotals(): Record<string, Record<string, number>> {
  return Object.fromEntries([...handlerCalls].map(([name, calls]) => [name, { ...calls }]));
}
