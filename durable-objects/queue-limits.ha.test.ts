/**
 * Issue 12 item 1, with a slave per broker: rows at the edge of every limit replicate (their
 * keys included, in the split layout), and one failing step of a master's alarm (here delayed
 * delivery, as the oversized key index made it) no longer stops transaction checks, retention
 * or the replication push.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StoredMessage } from "../protocol/message.js";
import { edgeBatch, edgeSingle } from "../test/fuzz/limit-edge.js";
import type { Env } from "../cluster/env.js";
import type { CommitLog } from "./queue/commit-log.js";
import type { DelayedStore } from "./queue/delayed-store.js";
import type { HalfStore } from "./queue/half-store.js";
import type { QueueIdentity } from "./queue/identity.js";
import type { MasterReplication } from "./queue/master-replication.js";
import { msg, newReplicatedQueue, replicate, storedEdge } from "./test-support.js";

const HOUR = 3600_000;

/** The parts of a queue object this test sets up directly (the stores its RPC methods write to). */
interface Inside {
  env: Env;
  log: CommitLog;
  delayed: DelayedStore;
  half: HalfStore;
  replication: MasterReplication;
  identity: QueueIdentity;
}

function summary(e: { queueOffset: number; storeTimestamp: number; message: StoredMessage } | null): unknown {
  if (!e) return null;
  const { body, ...rest } = e.message;
  let sum = 0;
  for (const b of body) sum = (sum * 31 + b) >>> 0;
  return { queueOffset: e.queueOffset, storeTimestamp: e.storeTimestamp, ...rest, bodyLength: body.length, bodySum: sum };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("QueueDO replication at the edge of every limit (issue 12 item 1)", { timeout: 120_000 }, () => {
  it("item 1: a slave takes rows whose keys span several key rows, byte for byte, and finds their messages by key", async () => {
    const { mq, master, slave } = newReplicatedQueue("LH");
    const heavy = edgeBatch("RS", "max keys").map((m, i) => storedEdge(m, `RS${i}`));
    await master.append(heavy, { mq });
    await master.append([storedEdge(edgeSingle("RB"), "RB")], { mq });
    await replicate(master);
    expect((await slave.stats()).maxOffset).toBe(heavy.length + 1);
    for (const offset of [0, heavy.length - 1, heavy.length]) {
      expect(summary(await slave.getMessage(offset))).toEqual(summary(await master.getMessage(offset)));
    }
    for (const [key, offset] of [
      [heavy[0]!.keys[0]!, 0],
      [heavy[heavy.length - 1]!.keys[63]!, heavy.length - 1],
    ] as const) {
      expect((await slave.queryKey(key, 0, Number.MAX_SAFE_INTEGER, 64)).map((e) => e.queueOffset)).toEqual([offset]);
    }
    const chunks = await runInDurableObject(slave, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM row_keys_chunk").one().n);
    expect(chunks).toBeGreaterThan(0);
  });

  it("item 1: a failing alarm step does not stop transaction checks, retention or the replication push; the alarm stays armed and the failure is logged once with the queue's name", async () => {
    const { mq, master, slave } = newReplicatedQueue("LH");
    const pg = `PG-${crypto.randomUUID()}`;
    await runInDurableObject(master, async (instance, state) => {
      const inside = instance as unknown as Inside;
      const now = Date.now();
      inside.env = { ...inside.env, FILE_RESERVED_TIME_MS: String(HOUR) }; // retention on: an hour
      inside.identity.remember(mq); // as the first send does
      inside.log.append([msg(0)], now - 2 * HOUR); // past retention
      inside.log.append([msg(1)], now);
      // A due delayed message whose stored row cannot be decoded: its delivery fails every run.
      inside.delayed.add(msg(2), now - 1, 1);
      state.storage.sql.exec("UPDATE delayed SET data = ?", new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]));
      // A transaction check due now, and a push to the slave due.
      inside.half.add(msg(3, { msgId: "TXH", properties: { TRAN_MSG: "true", PGROUP: pg } }), pg, now - 10, now - 1);
      inside.replication.markDue(now);
      await state.storage.setAlarm(now + HOUR); // workerd's own alarm stays out of the way
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);

    const before = Date.now();
    await runInDurableObject(master, (instance) => instance.alarm());
    const after = Date.now();

    // The delayed message is still waiting; every other step ran.
    expect((await master.delayedStats()).count).toBe(1);
    expect((await master.listTransactions("PENDING", 10)).map((t) => ({ id: t.transactionId, checkTimes: t.checkTimes }))).toEqual([
      { id: "TXH", checkTimes: 1 },
    ]);
    expect(await master.stats()).toMatchObject({ minOffset: 1, maxOffset: 2 });
    expect(await slave.stats()).toMatchObject({ minOffset: 1, maxOffset: 2 });
    expect(summary(await slave.getMessage(1))).toEqual(summary(await master.getMessage(1)));
    // Logged once, naming the queue and the step.
    expect(logged).toHaveBeenCalledTimes(1);
    expect(String(logged.mock.calls[0]![0])).toContain(`queue ${mq.topic}/broker-a/0: alarm step "delayed delivery" failed`);
    // Re-armed for the failing step's backoff (1 s), not at once (a hot loop) and not never.
    const alarm = await runInDurableObject(master, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual(before + 1000);
    expect(alarm).toBeLessThanOrEqual(after + 1000);

    // Another run within the backoff: the failing step waits, nothing more is logged, still armed.
    await runInDurableObject(master, (instance) => instance.alarm());
    expect(logged).toHaveBeenCalledTimes(1);
    expect((await master.delayedStats()).count).toBe(1);
    expect(await runInDurableObject(master, (_i, state) => state.storage.getAlarm())).toBeGreaterThanOrEqual(before + 1000);
    // Sends still work and still replicate.
    await master.append([msg(4)], { mq });
    await replicate(master);
    expect((await slave.stats()).maxOffset).toBe(3);
    await runInDurableObject(master, (_i, state) => state.storage.setAlarm(Date.now() + HOUR));
  });
});
