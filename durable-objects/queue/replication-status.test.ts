/**
 * What a master reports of its slaves (replication lag: cluster list, the dashboard, /metrics),
 * with a fake slave and no alarm: a fresh or restarted master holds no cursor until it hears
 * from a slave, so a status asks the slave first (statusNow) and reports its acknowledged
 * offset, never "unknown" while the slave answers. The pushes themselves are
 * master-replication.test.ts and replication.ha.test.ts.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { msg, newQueue } from "../test-support.js";
import { CommitLog } from "./commit-log.js";
import { QueueIdentity } from "./identity.js";
import { MasterReplication } from "./master-replication.js";
import type { ReplicaAck, ReplicaBatch } from "./replicator.js";

/** A slave holding `held` rows; `mode` fails or never answers its pushes. */
class Slave {
  held = 0;
  pushes = 0;
  mode: "up" | "down" | "silent" = "up";
  replicate = (batch: ReplicaBatch): Promise<ReplicaAck> => {
    this.pushes++;
    if (this.mode === "silent") return new Promise<ReplicaAck>(() => undefined);
    if (this.mode === "down") return Promise.reject(new Error("slave unreachable"));
    for (const row of batch.rows) this.held = Math.max(this.held, row.baseOffset + row.count);
    return Promise.resolve({ nextOffset: this.held, minOffset: batch.minOffset });
  };
}

function harness(state: DurableObjectState) {
  const now = 1_000_000;
  const log = new CommitLog(state.storage.sql, state.storage);
  const identity = new QueueIdentity(state.storage.sql, () => now);
  const slave = new Slave();
  const replication = new MasterReplication({
    log,
    identity,
    readOffsets: () => [],
    slaveCall: () => slave.replicate,
    config: () => ({ slavesPerBroker: 1, asyncReplicationDelayMs: 250, brokerRole: "ASYNC_MASTER", syncFlushSlaveTimeoutMs: 5000 }),
    alarmBy: async () => undefined,
    now: () => now,
  });
  return { log, identity, now, slave, replication };
}

describe("MasterReplication status (replication lag)", () => {
  it("a fresh or restarted master asks its slave where it stands, so the lag is known, not null; the contact carries no rows", async () => {
    const { q, mq } = newQueue("RS");
    await runInDurableObject(q, async (_i, state) => {
      const { log, identity, now, slave, replication } = harness(state);
      identity.remember(mq);
      // What a restarted master finds: rows the slave already holds, and no cursor in memory.
      log.append([msg(0), msg(1), msg(2)], now);
      slave.held = 3;
      expect(replication.status().slaves[0]!.lagMessages).toBeNull();
      expect((await replication.statusNow()).slaves).toEqual([{ brokerId: 1, ackedOffset: 3, lagMessages: 0, lastAckAt: expect.any(Number), lastError: null }]);
      expect(slave.pushes).toBe(1);
      // Asked again: the cursor is known, nobody is called.
      await replication.statusNow();
      expect(slave.pushes).toBe(1);
    });
  });

  it("under load, the lag counts from the slave's last acknowledgement: appends since then, never null", async () => {
    const { q, mq } = newQueue("RS");
    await runInDurableObject(q, async (_i, state) => {
      const { log, identity, now, slave, replication } = harness(state);
      identity.remember(mq);
      log.append([msg(0), msg(1)], now);
      slave.held = 2;
      // Appends the slave has not been pushed yet (the push waits for ASYNC_REPLICATION_DELAY_MS).
      log.append([msg(2), msg(3), msg(4)], now);
      expect((await replication.statusNow()).slaves[0]).toMatchObject({ ackedOffset: 2, lagMessages: 3, lastError: null });
      expect(slave.held).toBe(2);
      await replication.pushNow();
      log.append([msg(5)], now);
      expect((await replication.statusNow()).slaves[0]).toMatchObject({ ackedOffset: 5, lagMessages: 1 });
    });
  });

  it("a slave that fails or does not answer in time stays unknown, with its error; an empty queue wakes no slave", async () => {
    const { q, mq } = newQueue("RS");
    await runInDurableObject(q, async (_i, state) => {
      const { log, identity, now, slave, replication } = harness(state);
      identity.remember(mq);
      expect((await replication.statusNow()).slaves[0]!.lagMessages).toBeNull();
      expect(slave.pushes).toBe(0);
      log.append([msg(0)], now);
      slave.mode = "down";
      expect((await replication.statusNow()).slaves).toEqual([
        { brokerId: 1, ackedOffset: null, lagMessages: null, lastAckAt: null, lastError: "slave unreachable" },
      ]);
      slave.mode = "silent";
      expect((await replication.statusNow(20)).slaves[0]!.lagMessages).toBeNull();
    });
  });
});
