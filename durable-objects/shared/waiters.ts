/**
 * Parked long-poll pulls of one queue. Each waiter carries its own timer, so a waiter whose
 * caller went away is released when its time is up; an append wakes every waiter at once.
 * No polling loop: the object sleeps until an append or a timer fires.
 *
 * The cap on parked pulls is shared fairly between accounts: when it is reached, an account
 * holding fewer than the busiest one still gets in, and the busiest account's oldest waiter is
 * released early (it answers as a long poll that timed out, and its caller polls again). So
 * accounts that fill the cap can only crowd out themselves; an account is refused only while
 * it holds about as many as any other (at least its share, cap / accounts waiting).
 *
 * The producer group (check polls) and the consumer group (watches) park their long polls
 * here too, hence its place in shared/.
 */
import { Limits } from "../../protocol/limits.js";
import { toRpcError } from "../../cluster/rpc-errors.js";

interface Waiter {
  account: string;
  resolve: (woken: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Waiters {
  /** In arrival order, so the first of an account is its oldest. */
  private readonly waiting = new Set<Waiter>();
  private readonly perAccount = new Map<string, number>();

  constructor(private readonly max: number = Limits.maxWaitersPerQueue) {}

  get size(): number {
    return this.waiting.size;
  }

  /**
   * Resolves true when woken by an append, false when `timeoutMs` passed first or the waiter
   * was released to make room for another account. `account` is the caller's access key
   * ("" when the server has no accounts: then everyone shares one).
   */
  wait(timeoutMs: number, account = ""): Promise<boolean> {
    if (this.waiting.size >= this.max) this.makeRoom(account);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { account, resolve, timer: setTimeout(() => this.release(waiter, false), timeoutMs) };
      this.waiting.add(waiter);
      this.perAccount.set(account, (this.perAccount.get(account) ?? 0) + 1);
    });
  }

  wakeAll(): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
    this.waiting.clear();
    this.perAccount.clear();
  }

  /** Releases the busiest account's oldest waiter for `account`, or refuses `account`. */
  private makeRoom(account: string): void {
    const mine = this.perAccount.get(account) ?? 0;
    let busiest = account;
    let most = mine;
    for (const [a, n] of this.perAccount) {
      if (n > most) {
        busiest = a;
        most = n;
      }
    }
    // Taking one from an account holding just one more would only swap who is short.
    if (most <= mine + 1) {
      throw toRpcError("TOO_MANY_WAITERS", `this queue already holds ${this.max} parked pulls, ${mine} of them this account's (its share); retry later`);
    }
    for (const waiter of this.waiting) {
      if (waiter.account !== busiest) continue;
      this.release(waiter, false);
      return;
    }
  }

  private release(waiter: Waiter, woken: boolean): void {
    if (!this.waiting.delete(waiter)) return;
    clearTimeout(waiter.timer);
    const left = (this.perAccount.get(waiter.account) ?? 1) - 1;
    if (left > 0) this.perAccount.set(waiter.account, left);
    else this.perAccount.delete(waiter.account);
    waiter.resolve(woken);
  }
}
