/**
 * Faults a test can inject into a running server (PUT /_test/faults), so HA behaviour is
 * tested against a live system: NameServer instances and broker masters that do not answer.
 * Only served when TEST_FAULTS_ENABLED is "true", which no production configuration sets.
 * Held in isolate memory: the local server runs the Worker and its objects in one isolate.
 */
export interface Faults {
  /** NameServer instances every call to fails, as if unreachable. */
  unreachableNameServers: string[];
  /** Broker names whose master (brokerId 0) queue objects every call from the Worker fails. */
  unreachableMasters: string[];
  /** Broker names whose slaves the masters cannot reach (replication fails). */
  unreachableSlaves: string[];
}

const faults: Faults = { unreachableNameServers: [], unreachableMasters: [], unreachableSlaves: [] };

/** A stub whose every call fails without an answer, as an object that cannot be reached. */
export function unreachableStub<T>(what: string): T {
  const fail = () => Promise.reject(new Error(`${what} unreachable (test configuration)`));
  // "then" stays undefined so the stub itself is not taken for a promise.
  return new Proxy({}, { get: (_target, prop) => (prop === "then" ? undefined : fail) }) as T;
}

export function currentFaults(): Readonly<Faults> {
  return faults;
}

export function setFaults(next: { [K in keyof Faults]?: Faults[K] | undefined }): Faults {
  if (next.unreachableNameServers) faults.unreachableNameServers = [...next.unreachableNameServers];
  if (next.unreachableMasters) faults.unreachableMasters = [...next.unreachableMasters];
  if (next.unreachableSlaves) faults.unreachableSlaves = [...next.unreachableSlaves];
  return faults;
}
