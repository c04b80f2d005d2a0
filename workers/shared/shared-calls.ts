/**
 * Coalesces expensive calls per isolate: callers asking for a key while a call for it is in
 * flight get that call's answer (or failure) instead of starting another, so N concurrent
 * callers cost one call. Nothing is kept once it settles: the next caller gets a fresh answer.
 */
export class SharedCalls<T> {
  private readonly pending = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const answer = call().finally(() => this.pending.delete(key));
    this.pending.set(key, answer);
    return answer;
  }
}
