/**
 * NameServer instances, as RocketMQ runs several NameServers that never talk to each other:
 * every write goes to every instance, and a read fails over to the next instance when one
 * errors, so routes stay readable while any one instance answers. The test configuration can
 * name instances to treat as unreachable (never set in production).
 */
import { MQError } from "../protocol/errors.js";
import type { Env } from "./env.js";
import { nameServerStub, type NameServerStub } from "./stubs.js";

export function instanceNames(env: Env): string[] {
  const names = (env.NAMESRV_INSTANCES ?? "ns-0")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  return names.length > 0 ? names : ["ns-0"];
}

export function nameServerStubs(env: Env): { name: string; stub: NameServerStub }[] {
  return instanceNames(env).map((name) => ({ name, stub: nameServerStub(env, name) }));
}

/** Reads from the first instance that answers. */
export async function readNameServer<T>(env: Env, read: (ns: NameServerStub) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const { stub } of nameServerStubs(env)) {
    try {
      return await read(stub);
    } catch (e) {
      last = e;
    }
  }
  throw new MQError("SERVICE_UNAVAILABLE", "no NameServer instance answered", { cause: last });
}

/**
 * Applies a write to every instance; fails (nothing is half-known to the caller) unless all
 * of them took it, since instances never copy from each other.
 */
export async function writeNameServers<T>(env: Env, write: (ns: NameServerStub) => Promise<T>): Promise<Awaited<T>> {
  const results = await Promise.allSettled(nameServerStubs(env).map(({ stub }) => write(stub)));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw new MQError("SERVICE_UNAVAILABLE", "a NameServer instance did not take the write; retry", { cause: failed.reason });
  return (results[0] as PromiseFulfilledResult<Awaited<T>>).value;
}
