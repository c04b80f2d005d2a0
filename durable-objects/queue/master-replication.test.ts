/**
 * The master side of replication alone (master-replication.ts), with fake slaves and a clock the
 * test moves: when a push is scheduled and the alarm armed for it, the retry backoff of a push
 * that fails, and what each broker role answers a send. Replication between real objects is
 * replication.ha.test.ts.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { MasterRole } from "../../cluster/config.js";
import type { SendStatus } from "../../protocol/message.js";
import { msg, newQueue } from "../test-support.js";
import { CommitLog } from "./commit-log.js";
import { QueueIdentity } from "./identity.js";
import { MasterReplication } from "./master-replication.js";
import type { ReplicaAck, ReplicaBatch } from "./replicator.js";

const DELAY_MS = 250;

/** A slave that holds whatever it is sent, or, while `down`, refuses every push. */
class FakeSlave {
  down = false;
  held = 0;
  pushes = 0;
  replicate = (batch: ReplicaBatch): Promise<ReplicaAck> => {
    this.pushes++;
    if (this.down) return Promise.reject(new Error("slave unreachable"));
    for (const row of batch.rows) this.held = Math.max(this.held, row.baseOffset + row.count);
    return Promise.resolve({ nextOffset: this.held, minOffset: batch.minOffset });
  };
}

function harness(state: DurableObjectState, role: MasterRole = "ASYNC_MASTER", slaves = 1) {
  const clock = { now: 1_000_000 };
  const log = new CommitLog(state.storage.sql, state.storage);
  const identity = new QueueIdentity(state.storage.sql, () => clock.now);
  const slave = new FakeSlave();
  let armed = 0;
  const replication = new MasterReplication({
    log,
    identity,
    readOffsets: () => [],
    slaveCall: () => slave.replicate,
    config: () => ({ slavesPerBroker: slaves, asyncReplicationDelayMs: DELAY_MS, brokerRole: role, syncFlushSlaveTimeoutMs: 5000 }),
    alarmBy: async () => {
      armed++;
    },
    now: () => clock.now,
  });
  /** What confirm() answers, once it does. */
  const confirmed = () => new Promise<SendStatus>((resolve) => void replication.confirm(resolve));
  return { log, identity, clock, slave, replication, confirmed, armedCount: () => armed };
}

describe("MasterReplication alone", () => {
  it("schedules one push ASYNC_REPLICATION_DELAY_MS after a change and arms the alarm for it; a queue with no slave schedules nothing", async () => {
    const { q, mq } = newQueue("MR");
    await runInDurableObject(q, async (_i, state) => {
      const { identity, clock, replication, armedCount } = harness(state);
      // Unnamed yet: no slave to push to.
      await replication.schedule();
      await replication.offsetChanged("G");
      expect([replication.dueAt, armedCount(), replication.slaveLinks()]).toEqual([null, 0, []]);

      identity.remember(mq);
      await replication.schedule();
      expect([replication.dueAt, armedCount()]).toEqual([clock.now + DELAY_MS, 1]);
      // Changes meanwhile ride on the push already due.
      clock.now += 100;
      await replication.offsetChanged("G");
      await replication.schedule();
      expect([replication.dueAt, armedCount()]).toEqual([clock.now - 100 + DELAY_MS, 1]);
    });
  });

  it("retries a failed push 1 s, 2 s, 4 s ... apart up to 30 s, and has nothing due once the slave caught up", async () => {
    const { q, mq } = newQueue("MR");
    await runInDurableObject(q, async (_i, state) => {
      const { log, identity, clock, slave, replication } = harness(state);
      identity.remember(mq);
      log.append([msg(0), msg(1)], clock.now);
      slave.down = true;
      const gaps: number[] = [];
      for (let i = 0; i < 8; i++) {
        await replication.pushNow();
        gaps.push(replication.dueAt! - clock.now);
      }
      expect(gaps).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
      expect(replication.status().slaves).toEqual([{ brokerId: 1, ackedOffset: null, lagMessages: null, lastAckAt: null, lastError: "slave unreachable" }]);
      expect(replication.slaveHolds()).toBeUndefined();

      slave.down = false;
      await replication.pushNow();
      expect(replication.dueAt).toBeNull();
      expect(slave.held).toBe(2);
      expect(replication.status()).toEqual({
        brokerId: 0,
        minOffset: 0,
        maxOffset: 2,
        slaves: [{ brokerId: 1, ackedOffset: 2, lagMessages: 0, lastAckAt: expect.any(Number), lastError: null }],
      });
      expect(replication.slaveHolds()).toBe(2);
      // After a success the backoff starts again from 1 s.
      slave.down = true;
      log.append([msg(2)], clock.now);
      await replication.pushNow();
      expect(replication.dueAt! - clock.now).toBe(1000);
    });
  });

  it("answers an ASYNC_MASTER's send at once and schedules the push", async () => {
    const { q, mq } = newQueue("MR");
    await runInDurableObject(q, async (_i, state) => {
      const { log, identity, clock, slave, replication, confirmed } = harness(state, "ASYNC_MASTER");
      identity.remember(mq);
      log.append([msg(0)], clock.now);
      expect(await confirmed()).toBe("SEND_OK");
      expect([replication.dueAt, slave.pushes]).toEqual([clock.now + DELAY_MS, 0]);
    });
  });

  it("answers a SYNC_MASTER's send once a slave holds it, and SLAVE_NOT_AVAILABLE when none can or none exists", async () => {
    const { q, mq } = newQueue("MR");
    await runInDurableObject(q, async (_i, state) => {
      const { log, identity, clock, slave, confirmed } = harness(state, "SYNC_MASTER");
      identity.remember(mq);
      log.append([msg(0), msg(1), msg(2)], clock.now);
      expect(await confirmed()).toBe("SEND_OK");
      expect(slave.held).toBe(3);
      slave.down = true;
      log.append([msg(3)], clock.now);
      expect(await confirmed()).toBe("SLAVE_NOT_AVAILABLE");
      expect(slave.held).toBe(3);
    });
    const other = newQueue("MR");
    await runInDurableObject(other.q, async (_i, state) => {
      const { log, identity, clock, confirmed } = harness(state, "SYNC_MASTER", 0);
      identity.remember(other.mq);
      log.append([msg(0)], clock.now);
      expect(await confirmed()).toBe("SLAVE_NOT_AVAILABLE");
    });
  });
});
