/**
 * Recently stored msgIds of one queue and where they went. A producer that retries a send
 * on the same queue with the same msgId (an ordered send after a timeout, say) gets the
 * first result back instead of a second copy. In memory and bounded: after the object
 * restarts, or past the window, a retry can still store a duplicate (at-least-once).
 */
export class RecentIds<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity: number = 10_000) {}

  get(id: string): V | undefined {
    return this.map.get(id);
  }

  set(id: string, value: V): void {
    this.map.delete(id);
    this.map.set(id, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  clear(): void {
    this.map.clear();
  }
}
