/**
 * What one access key's replay guard remembers, as pure logic (no storage, no clock).
 *
 * Invariant: every request the key had accepted is either in `seen` (nonce → signed date) or
 * dated at or before `floor`. So a request is fresh exactly when it is dated after the floor
 * and its nonce is not in `seen`. Memory stays bounded without ever forgetting a request:
 * entries leave `seen` only by raising the floor over their dates, either because they are
 * older than the signature window (the edge refuses them anyway) or, when one key claims more
 * than `capacity` nonces within the window, the older half of them. A flood from one account
 * can thus only narrow that account's own tolerance for late requests; it never clears what
 * the guard remembers.
 */

/** `stale`: dated at or before the floor (sign again); `replayed`: the nonce was seen. */
export type ReplayVerdict = "fresh" | "replayed" | "stale";

export interface ReplayWindowOptions {
  /** Nonces kept in memory at most. */
  capacity: number;
  /** Entries dated before `now - forgetAfterMs` leave memory (and raise the floor). */
  forgetAfterMs: number;
  /** How often (ms) the age sweep walks the entries; default 30,000. */
  sweepEveryMs?: number;
}

export class ReplayWindow {
  private readonly seen = new Map<string, number>();
  private nextSweepAt = 0;
  private floorDate: number;

  constructor(
    floor: number,
    private readonly options: ReplayWindowOptions,
  ) {
    this.floorDate = floor;
  }

  /** Requests dated at or before this are refused as stale. */
  get floor(): number {
    return this.floorDate;
  }

  /** Nonces held in memory. */
  get size(): number {
    return this.seen.size;
  }

  /** Judges a request and, when it is fresh, remembers its nonce. */
  claim(nonce: string, date: number, now: number): ReplayVerdict {
    if (date <= this.floorDate) return "stale";
    if (this.seen.has(nonce)) return "replayed";
    this.remember(nonce, date, now);
    return "fresh";
  }

  /** Puts a nonce known to be used into memory (a claim, or one reloaded after a restart). */
  remember(nonce: string, date: number, now: number): void {
    if (date <= this.floorDate) return;
    this.seen.set(nonce, date);
    if (now >= this.nextSweepAt) {
      this.nextSweepAt = now + (this.options.sweepEveryMs ?? 30_000);
      this.forgetAtOrBefore(now - this.options.forgetAfterMs);
    }
    if (this.seen.size > this.options.capacity) {
      // Sorting ~capacity dates once per capacity/2 claims keeps this O(log n) per claim.
      const dates = [...this.seen.values()].sort((a, b) => a - b);
      this.forgetAtOrBefore(dates[Math.floor(dates.length / 2)]!);
    }
  }

  /** Drops entries dated at or before `cutoff`; the floor rises over the ones dropped. */
  private forgetAtOrBefore(cutoff: number): void {
    let highest = this.floorDate;
    for (const [nonce, date] of this.seen) {
      if (date > cutoff) continue;
      this.seen.delete(nonce);
      if (date > highest) highest = date;
    }
    if (highest > this.floorDate) this.floorDate = highest;
  }
}
