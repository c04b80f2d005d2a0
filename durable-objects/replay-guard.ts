/**
 * ReplayGuard: one object per access key, asked once per signed request whether its nonce is
 * fresh. Being one object per key (not per Worker isolate), it refuses a replay whichever
 * isolate the copy lands on, and the limit on what it remembers is the key's own.
 *
 * Nonces live in memory only (`ReplayWindow`); what survives a restart is a ceiling: a date
 * at or after every request accepted so far, stored ahead of the newest one by
 * CEILING_STEP_MS, so under steady traffic it is written about once a second per key instead
 * of once per request. After a restart (deploy, eviction, crash) every request dated at or
 * before the ceiling is refused as stale: replays of anything accepted before are refused,
 * and an honest request signed in the last second before the restart is refused with a
 * retriable code. A request dated more than AHEAD_MS ahead of this object's clock (a client
 * clock running fast) would drag the ceiling, and so that refusal, into the future; its nonce
 * gets a row of its own instead, until it is older than the signature window.
 *
 * The reply to a claim leaves only after its writes are durable (the output gate), so no
 * accepted request can be forgotten by a crash.
 */
import { DurableObject } from "cloudflare:workers";
import { SIGNATURE_WINDOW_MS } from "../protocol/auth/signature.js";
import type { Env } from "../cluster/env.js";
import { AHEAD_MS, CEILING_STEP_MS, REPLAY_NONCES_PER_KEY } from "./replay-guard/policy.js";
import { ReplayWindow, type ReplayVerdict } from "./replay-guard/window.js";
import { applyMigrations } from "./shared/migrate.js";
import { trackActivity } from "./shared/activity.js";

export type { ReplayVerdict } from "./replay-guard/window.js";
/** Entries older than the signature window (plus slack for clock differences with the edge) are forgotten. */
const MIGRATIONS: readonly string[] = [
  // v1: the layout before versions existed.
  `CREATE TABLE IF NOT EXISTS ceiling (id INTEGER PRIMARY KEY CHECK (id = 0), date INTEGER NOT NULL);
   CREATE TABLE IF NOT EXISTS ahead (nonce TEXT PRIMARY KEY, date INTEGER NOT NULL) WITHOUT ROWID;`,
];
const FORGET_AFTER_MS = SIGNATURE_WINDOW_MS + 60_000;
const ROW_SWEEP_EVERY_MS = 60_000;

export interface ReplayGuardStatus {
  /** Requests dated at or before this are refused as stale. */
  floor: number;
  /** The stored ceiling: the floor after a restart. */
  ceiling: number;
  /** Nonces in memory. */
  remembered: number;
  /** Nonces of fast clocks kept as rows. */
  aheadRows: number;
}

export class ReplayGuardDO extends DurableObject<Env> {
  private window!: ReplayWindow;
  private ceiling = 0;
  private nextRowSweepAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      applyMigrations(sql, MIGRATIONS, "_meta");
      this.ceiling = sql.exec<{ date: number }>("SELECT date FROM ceiling").toArray()[0]?.date ?? 0;
      this.window = new ReplayWindow(this.ceiling, { capacity: REPLAY_NONCES_PER_KEY, forgetAfterMs: FORGET_AFTER_MS });
      const now = Date.now();
      for (const row of sql.exec<{ nonce: string; date: number }>("SELECT nonce, date FROM ahead WHERE date > ?", this.ceiling)) {
        this.window.remember(row.nonce, row.date, now);
      }
    });
  }

  /** Judges the nonce of a request whose signature the edge has verified; remembers it when fresh. */
  claim(nonce: string, date: number): ReplayVerdict {
    const now = Date.now();
    const verdict = this.window.claim(nonce, date, now);
    if (verdict !== "fresh") return verdict;
    const covered = Math.min(date, now + AHEAD_MS);
    if (date > covered) this.ctx.storage.sql.exec("INSERT OR REPLACE INTO ahead (nonce, date) VALUES (?, ?)", nonce, date);
    if (covered > this.ceiling) this.storeCeiling(covered + CEILING_STEP_MS);
    if (now >= this.nextRowSweepAt) this.sweepAheadRows(now);
    return "fresh";
  }

  status(): ReplayGuardStatus {
    const aheadRows = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM ahead").one().n;
    return { floor: this.window.floor, ceiling: this.ceiling, remembered: this.window.size, aheadRows };
  }

  private storeCeiling(date: number): void {
    this.ceiling = date;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO ceiling (id, date) VALUES (0, ?)", date);
  }

  /** Deletes rows older than the window, raising the ceiling over them first. */
  private sweepAheadRows(now: number): void {
    this.nextRowSweepAt = now + ROW_SWEEP_EVERY_MS;
    const cutoff = now - FORGET_AFTER_MS;
    const sql = this.ctx.storage.sql;
    const highest = sql.exec<{ d: number | null }>("SELECT max(date) AS d FROM ahead WHERE date <= ?", cutoff).one().d;
    if (highest === null) return;
    if (highest > this.ceiling) this.storeCeiling(highest);
    sql.exec("DELETE FROM ahead WHERE date <= ?", cutoff);
  }
}

// Calls in progress and time awake, for the idle-cost test and the benchmark (shared/activity.ts).
trackActivity(ReplayGuardDO);
