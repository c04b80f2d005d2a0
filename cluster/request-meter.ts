/**
 * Counts the calls made on Durable Object stubs in this isolate, per object class and method,
 * under the test configuration only: each RPC method call and each fetch on a stub is one
 * billed Durable Object request on Cloudflare, whether the Worker or another object makes it.
 * The benchmark reads the counts (GET /_test/activity) to report requests per message; every
 * stub is made in cluster/stubs.ts, which wraps it here. A deployed configuration never wraps
 * a stub, so this adds nothing to its calls.
 */
import type { Env } from "./env.js";

/** Calls per class, then per method. */
const counts = new Map<string, Map<string, number>>();

function count(className: string, method: string): void {
  let byMethod = counts.get(className);
  if (!byMethod) counts.set(className, (byMethod = new Map<string, number>()));
  byMethod.set(method, (byMethod.get(method) ?? 0) + 1);
}

/**
 * `stub`, its method calls counted under `className` when the test configuration is on;
 * `stub` itself otherwise. Properties that are not functions pass through untouched.
 */
export function meteredStub<T extends object>(env: Env, className: string, stub: T): T {
  if (env.TEST_FAULTS_ENABLED !== "true") return stub;
  return new Proxy(stub, {
    // The stub's own properties are read on the stub itself: its RPC methods are not plain
    // functions and do not work with the proxy as their receiver.
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof prop !== "string" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        count(className, prop);
        return (target as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
      };
    },
  });
}

/** Stub calls made in this isolate so far, per class and method. */
export function stubCallTotals(): Record<string, Record<string, number>> {
  return Object.fromEntries([...counts].map(([cls, byMethod]) => [cls, Object.fromEntries(byMethod)]));
}
