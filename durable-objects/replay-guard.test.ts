/**
 * Replay guard (issue 12 item 4): one object per access key remembers the nonces of signed
 * requests; a restart refuses everything it may have accepted before; a flood from one key
 * neither flushes what it remembers nor touches another key; the stored ceiling costs about
 * one row a second, not one per request.
 */
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ReplayGuardDO } from "./replay-guard.js";
import { AHEAD_MS, CEILING_STEP_MS, REPLAY_NONCES_PER_KEY } from "./replay-guard/policy.js";
import { ReplayWindow } from "./replay-guard/window.js";

let keys = 0;
const guardNamed = (accessKey: string) => env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(accessKey));
const guardOf = (accessKey = `key-${Date.now()}-${++keys}`) => guardNamed(accessKey);

/** Counts the statements that write (INSERT, UPDATE, DELETE) while `body` runs inside the object. */
async function countWrites(guard: DurableObjectStub<ReplayGuardDO>, body: (instance: ReplayGuardDO) => void): Promise<number> {
  return runInDurableObject(guard, (instance, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    let writes = 0;
    sql.exec = ((query: string, ...bindings: unknown[]) => {
      if (/^\s*(INSERT|UPDATE|DELETE)/i.test(query)) writes++;
      return exec(query, ...bindings);
    }) as typeof sql.exec;
    try {
      body(instance);
    } finally {
      sql.exec = exec;
    }
    return writes;
  });
}

describe("replay window (pure logic)", () => {
  it("item 4: a nonce is fresh once; a date at or before the floor is stale", () => {
    const w = new ReplayWindow(100, { capacity: 10, forgetAfterMs: 1_000 });
    expect(w.claim("n1", 200, 200)).toBe("fresh");
    expect(w.claim("n1", 200, 200)).toBe("replayed");
    expect(w.claim("n1", 250, 250)).toBe("replayed");
    expect(w.claim("n2", 100, 250)).toBe("stale");
    expect(w.claim("n3", 101, 250)).toBe("fresh");
  });

  it("item 4: over capacity the older half leaves memory and the floor refuses it; nothing is flushed", () => {
    const w = new ReplayWindow(0, { capacity: 10, forgetAfterMs: 1_000_000 });
    for (let i = 1; i <= 11; i++) expect(w.claim(`n${i}`, i, 11)).toBe("fresh");
    expect(w.size).toBeLessThanOrEqual(10);
    expect(w.floor).toBe(6);
    // Every nonce ever accepted is still refused: the dropped ones by the floor, the rest by memory.
    for (let i = 1; i <= 11; i++) expect(w.claim(`n${i}`, i, 11)).toBe(i <= 6 ? "stale" : "replayed");
    expect(w.claim("late", 6, 11)).toBe("stale");
    expect(w.claim("new", 12, 12)).toBe("fresh");
  });

  it("item 4: entries older than the window leave memory, raising the floor over them", () => {
    const w = new ReplayWindow(0, { capacity: 1_000, forgetAfterMs: 100, sweepEveryMs: 10 });
    expect(w.claim("old", 50, 50)).toBe("fresh");
    expect(w.claim("new", 180, 180)).toBe("fresh");
    expect(w.size).toBe(1);
    expect(w.floor).toBe(50);
    expect(w.claim("old", 50, 181)).toBe("stale");
    expect(w.claim("new", 180, 181)).toBe("replayed");
  });
});

describe("replay guard object", () => {
  it("item 4: a nonce is fresh once per key, and the same nonce of another key is its own", async () => {
    const key = `key-${Date.now()}-${++keys}`;
    const a = guardOf(key);
    const b = guardOf();
    const now = Date.now();
    expect(await a.claim("nonce-0001", now)).toBe("fresh");
    expect(await a.claim("nonce-0001", now)).toBe("replayed");
    // Another stub of the same key (what another Worker isolate gets) sees the same memory.
    expect(await guardNamed(key).claim("nonce-0001", now)).toBe("replayed");
    expect(await b.claim("nonce-0001", now)).toBe("fresh");
  });

  it("item 4: after a restart, every request accepted before is refused and later ones pass", async () => {
    const guard = guardOf();
    const now = Date.now();
    expect(await guard.claim("before-1", now - 60_000)).toBe("fresh");
    expect(await guard.claim("before-2", now)).toBe("fresh");
    await evictDurableObject(guard);
    const after = await guard.status();
    expect(after.remembered).toBe(0);
    expect(after.floor).toBe(now + CEILING_STEP_MS);
    expect(await guard.claim("before-1", now - 60_000)).toBe("stale");
    expect(await guard.claim("before-2", now)).toBe("stale");
    expect(await guard.claim("after-1", now + CEILING_STEP_MS + 1)).toBe("fresh");
    expect(await guard.claim("after-1", now + CEILING_STEP_MS + 1)).toBe("replayed");
  });

  it("item 4: a nonce dated ahead of the object's clock survives a restart as a row, without moving the floor", async () => {
    const guard = guardOf();
    const now = Date.now();
    const ahead = now + 4 * 60_000;
    expect(await guard.claim("fast-clock", ahead)).toBe("fresh");
    expect((await guard.status()).aheadRows).toBe(1);
    await evictDurableObject(guard);
    const status = await guard.status();
    // The floor stays near the object's clock, so clients with a right clock are not refused for minutes.
    expect(status.floor).toBeLessThanOrEqual(Date.now() + AHEAD_MS + CEILING_STEP_MS);
    expect(await guard.claim("fast-clock", ahead)).toBe("replayed");
    expect(await guard.claim("right-clock", Date.now() + AHEAD_MS + CEILING_STEP_MS + 1)).toBe("fresh");
  });

  it("item 4: filling one key's memory raises that key's floor instead of flushing it, and leaves another key alone", async () => {
    const flooder = guardOf();
    const other = guardOf();
    const start = Date.now() - 60_000;
    expect(await flooder.claim("first", start)).toBe("fresh");
    expect(await other.claim("victim", start)).toBe("fresh");
    await runInDurableObject(flooder, (instance) => {
      for (let i = 0; i < REPLAY_NONCES_PER_KEY + 10; i++) expect(instance.claim(`flood-${i}`, start + 1 + Math.floor(i / 1000))).toBe("fresh");
    });
    const status = await flooder.status();
    expect(status.remembered).toBeLessThanOrEqual(REPLAY_NONCES_PER_KEY);
    expect(status.floor).toBeGreaterThan(start);
    expect(await flooder.claim("first", start)).toBe("stale");
    expect(await flooder.claim("flood-0", start + 1)).toBe("stale");
    expect(await flooder.claim(`flood-${REPLAY_NONCES_PER_KEY}`, start + 1 + Math.floor(REPLAY_NONCES_PER_KEY / 1000))).toBe("replayed");
    // The other key still refuses its nonce, and its floor is only what its own traffic set (an
    // idle object may have been evicted meanwhile: then "stale" from its stored ceiling).
    expect(["replayed", "stale"]).toContain(await other.claim("victim", start));
    expect((await other.status()).floor).toBeLessThanOrEqual(start + CEILING_STEP_MS);
  });

  it("item 4: the stored ceiling is written about once a second of traffic, not once per request", async () => {
    const guard = guardOf();
    // Dated in the past, as requests arrive (a date ahead of the object's clock gets its own row).
    const start = Date.now() - 2_000;
    const writes = await countWrites(guard, (instance) => {
      // 2,000 requests spread over 1.5 s of signed dates.
      for (let i = 0; i < 2_000; i++) instance.claim(`n-${i}`, start + Math.floor((i * 1_500) / 2_000));
    });
    expect(writes).toBeLessThanOrEqual(2);
    expect(writes).toBeGreaterThanOrEqual(1);
  });
});
