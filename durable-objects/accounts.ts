/**
 * Accounts managed through the admin API. Only the signing key derived from an account's
 * secret is stored, never the secret itself, so neither this store nor any endpoint can give
 * a secret back.
 */
import { DurableObject } from "cloudflare:workers";
import type { AccountPolicy } from "../protocol/auth/permissions.js";
import type { Env } from "../cluster/env.js";
import { applyMigrations } from "./shared/migrate.js";
import { trackActivity } from "./shared/activity.js";

const MIGRATIONS: readonly string[] = [
  // v1: the layout before versions existed.
  "CREATE TABLE IF NOT EXISTS account (access_key TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID",
];

export interface StoredAccount extends AccountPolicy {
  signingKey: string;
}

export class AccountsDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage.sql, MIGRATIONS, "_meta");
    });
  }

  list(): StoredAccount[] {
    return this.ctx.storage.sql
      .exec<{ record: string }>("SELECT record FROM account ORDER BY access_key")
      .toArray()
      .map((r) => JSON.parse(r.record) as StoredAccount);
  }

  get(accessKey: string): StoredAccount | null {
    const row = this.ctx.storage.sql.exec<{ record: string }>("SELECT record FROM account WHERE access_key = ?", accessKey).toArray()[0];
    return row ? (JSON.parse(row.record) as StoredAccount) : null;
  }

  put(account: StoredAccount): void {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO account (access_key, record) VALUES (?, ?)", account.accessKey, JSON.stringify(account));
  }

  remove(accessKey: string): boolean {
    return this.ctx.storage.sql.exec("DELETE FROM account WHERE access_key = ?", accessKey).rowsWritten > 0;
  }
}

// Calls in progress and time awake, for the idle-cost test and the benchmark (shared/activity.ts).
trackActivity(AccountsDO);
