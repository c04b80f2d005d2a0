/**
 * Master → slave replication of a queue (ASYNC_MASTER, one slave, in this project): rows with
 * identical offsets, ids and store times, consumer offsets, retention, restarts.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { clockPast, heldPull, msg, newReplicatedQueue, rejection, replicate } from "../test-support.js";

describe("QueueDO replication", () => {
  it("copies rows with the same offsets, ids and store times, and reports the lag", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0), msg(1)], { mq });
    await master.append([msg(2)], { mq });
    await replicate(master);
    const status = await master.replicationStatus();
    expect(status.maxOffset).toBe(3);
    expect(status.slaves).toEqual([expect.objectContaining({ brokerId: 1, ackedOffset: 3, lagMessages: 0, lastError: null })]);
    for (let offset = 0; offset < 3; offset++) {
      const a = await master.getMessage(offset);
      const b = await slave.getMessage(offset);
      expect(b).toEqual(a);
    }
    expect((await slave.stats()).maxOffset).toBe(3);

    // More appends: pushed right after they are stored (ASYNC_MASTER streams to its slave), so
    // the lag is 2 while that push is in flight and 0 once it landed, never unknown. (Lag from a
    // slave's last acknowledgement under load: replication-status.test.ts.)
    await master.append([msg(3), msg(4)], { mq });
    const behind = (await master.replicationStatus()).slaves[0]!.lagMessages;
    expect([0, 2]).toContain(behind);
    await replicate(master);
    expect((await master.replicationStatus()).slaves[0]!.lagMessages).toBe(0);
    expect((await slave.getMessage(4))!.message.msgId).toBe("ID4");
  });

  it("replicates consumer offsets, and never twice the same row across a master restart", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0), msg(1), msg(2)], { mq });
    await master.commitOffset("G1", 2);
    await replicate(master);
    expect(await slave.fetchOffset("G1")).toEqual({ offset: 2, committed: true });
    await evictDurableObject(master);
    await master.append([msg(3)], { mq });
    await master.commitOffset("G1", 4);
    await replicate(master); // first contact after the restart asks the slave where it is
    await replicate(master);
    expect((await slave.stats()).maxOffset).toBe(4);
    expect((await slave.stats()).messagesAppended).toBeLessThanOrEqual(4);
    expect(await slave.fetchOffset("G1")).toEqual({ offset: 4, committed: true });
    expect((await slave.getMessage(3))!.message.msgId).toBe("ID3");
  });

  it("a restarted master reports its slave's lag at once (it asks the slave), not unknown", async () => {
    const { mq, master } = newReplicatedQueue("R");
    await master.append([msg(0), msg(1), msg(2)], { mq });
    await replicate(master);
    await evictDurableObject(master);
    const status = await master.replicationStatus();
    expect([status.maxOffset, status.slaves]).toEqual([3, [expect.objectContaining({ brokerId: 1, ackedOffset: 3, lagMessages: 0, lastError: null })]]);
    await evictDurableObject(master);
    expect((await master.metrics()).slaves).toEqual([{ brokerId: 1, lagMessages: 0 }]);
  });

  it("mirrors the master's retention: rows the master dropped leave the slave", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0)], { mq });
    await master.append([msg(1)], { mq });
    await master.append([msg(2)], { mq });
    await replicate(master);
    expect(await master.truncateBefore(2)).toBe(2);
    await replicate(master); // the new minOffset alone is worth a push
    const stats = await slave.stats();
    expect([stats.minOffset, stats.maxOffset]).toEqual([2, 3]);
  });

  it("keeps the roles apart: a slave takes no appends, a master no replication", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0)], { mq });
    await replicate(master);
    expect((await rejection(slave.append([msg(1)], { mq }))).message).toContain("NO_PERMISSION");
    const batch = { mq, brokerId: 1, epoch: Date.now(), rows: [], offsets: [], minOffset: 0 };
    expect((await rejection(master.replicate(batch))).message).toContain("NO_PERMISSION");
  });

  it("a slave behind the consumer answers NO_NEW_MSG at the consumer's offset, never moving it back", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0), msg(1)], { mq });
    await replicate(master);
    await master.append([msg(2), msg(3)], { mq });
    // The consumer read up to 4 on the master; the slave only has 2.
    const r = await slave.pull({ offset: 4, maxNums: 32, replica: true });
    expect(r.pullStatus).toBe("NO_NEW_MSG");
    expect(r.nextBeginOffset).toBe(4);
    // A parked pull on the slave wakes when replication brings the rows.
    const parked = heldPull(slave, { offset: 2, maxNums: 32, maxWaitMs: 5000, replica: true });
    await replicate(master);
    const woke = await parked;
    expect(woke.pullStatus).toBe("FOUND");
    expect(woke.entries.map((e) => e.message.msgId)).toEqual(["ID2", "ID3"]);
  });

  it("an empty slave knows nothing: no offsets to guess, and a commit it takes is not checked against its log", async () => {
    const { slave } = newReplicatedQueue("R");
    expect((await rejection(slave.fetchReplicaOffset("G"))).message).toContain("SERVICE_UNAVAILABLE");
    await slave.commitReplicaOffset("G", 42);
    expect(await slave.fetchOffset("G")).toEqual({ offset: 42, committed: true });
  });

  it("keeps a commit the slave took while its master was unreachable over an older offset the master pushes later", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0), msg(1), msg(2)], { mq });
    await master.commitOffset("G", 1); // not pushed yet when the edge loses the master
    await clockPast(Date.now()); // the slave's commit is dated after the master's
    await slave.commitReplicaOffset("G", 3); // the consumer's commit while the master is away
    await replicate(master); // the master, alive all along, pushes its older offset
    expect(await slave.fetchReplicaOffset("G")).toEqual({ offset: 3, committed: true });
    // A commit on the master after that one is newer, and replaces it.
    await clockPast(Date.now());
    await master.commitOffset("G", 2);
    await replicate(master);
    expect(await slave.fetchReplicaOffset("G")).toEqual({ offset: 2, committed: true });
  });

  it("replicates the offsets of more groups than one push carries", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0)], { mq });
    // Committed inside the object: 1,200 RPC round trips took over 5 s on a loaded machine.
    await runInDurableObject(master, async (instance) => {
      for (let g = 0; g < 1200; g++) instance.commitOffset(`G${String(g).padStart(4, "0")}`, 1);
    });
    await evictDurableObject(master); // a restart sends every group's offset again, page by page
    await master.append([msg(1)], { mq });
    await replicate(master);
    expect(await slave.fetchOffset("G0000")).toEqual({ offset: 1, committed: true });
    expect(await slave.fetchOffset("G1199")).toEqual({ offset: 1, committed: true });
  });

  it("a purged master starts a new epoch: its slave drops the old log and refuses late pushes of it", async () => {
    const { mq, master, slave } = newReplicatedQueue("R");
    await master.append([msg(0), msg(1), msg(2)], { mq });
    await replicate(master);
    const oldEpoch = await runInDurableObject(master, (i) => (i as unknown as { identity: { epoch: number } }).identity.epoch);
    await master.purge(); // the slave is not purged here: the epoch alone must keep them apart
    await master.append([msg(9)], { mq });
    await replicate(master);
    const stats = await slave.stats();
    expect([stats.minOffset, stats.maxOffset]).toEqual([0, 1]);
    expect((await slave.getMessage(0))!.message.msgId).toBe("ID9");
    const late = { mq, brokerId: 1, epoch: oldEpoch, rows: [], offsets: [], minOffset: 0 };
    expect((await rejection(slave.replicate(late))).message).toContain("older log");
  });
});
