/**
 * SimpleConsumer (POP) through a kill -9 of the whole server (`npm start`'s process group) while
 * receivers hold messages: after a restart on the same storage every unacked message is
 * received again (once its invisible time has passed) and no acked one ever is.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Admin, Producer, SimpleConsumer, bodyText, type ReceivedMessage } from "../../client/index.js";
import { quietPeriod, uniqueName, waitFor } from "../helpers.js";
import { startProcessServer, type ProcessServer } from "../process-server.js";

/** The shortest invisible duration there is: how long the unacked messages stay away. */
const MIN_INVISIBLE_MS = 10_000;

const running: ProcessServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.kill9().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe("SimpleConsumer across a kill -9", () => {
  it("crash item: unacked messages come back after the restart, acked ones never", { timeout: 120_000 }, async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "flaremq-pop-crash-"));
    dirs.push(stateDir);
    const first = await startProcessServer(stateDir);
    running.push(first);
    const topic = uniqueName("PopCrash");
    const group = uniqueName("sc");
    const connect = (s: ProcessServer) => new SimpleConsumer({ endpoint: s.url, credentials: s.credentials, group, awaitDurationMs: 0 }).subscribe(topic);

    await new Admin({ endpoint: first.url, credentials: first.credentials }).createTopic(topic, { queueNums: 2, brokers: ["broker-a"] });
    const producer = new Producer({ endpoint: first.url, credentials: first.credentials, group: uniqueName("pg") });
    await producer.start();
    for (let i = 0; i < 10; i++) await producer.send({ topic, body: `m-${i}` });

    // Hold 6: ack 2, and make the other 4 visible again 10 s from now, exactly (no retry delay).
    const receiver = connect(first);
    const held: ReceivedMessage[] = [];
    while (held.length < 6) held.push(...(await receiver.receive(6 - held.length, 60_000)));
    await receiver.ackAll(held.slice(0, 2));
    const acked = held.slice(0, 2).map((m) => bodyText(m));
    const unacked: string[] = [];
    for (const m of held.slice(2)) unacked.push(bodyText(await receiver.changeInvisibleDuration(m, MIN_INVISIBLE_MS)));
    const changedAt = Date.now();
    await first.kill9();
    running.splice(running.indexOf(first), 1);

    const second = await startProcessServer(stateDir);
    running.push(second);
    const after = connect(second);
    const got: { body: string; reconsumeTimes: number; at: number; message: ReceivedMessage }[] = [];
    const receiveAll = async () => {
      const at = Date.now();
      for (const message of await after.receive(32, 60_000)) got.push({ body: bodyText(message), reconsumeTimes: message.reconsumeTimes, at, message });
      return got;
    };
    // Every message but the acked ones: the never received at once, the unacked once their 10 s
    // are over (the restart itself may take that long), as a second delivery.
    await waitFor("every unacked message", async () => (await receiveAll()).length >= 8, MIN_INVISIBLE_MS + 30_000);
    const all = Array.from({ length: 10 }, (_, i) => `m-${i}`);
    expect(got.map((g) => g.body).sort()).toEqual(all.filter((b) => !acked.includes(b)).sort());
    for (const g of got) {
      if (unacked.includes(g.body)) {
        expect(g.reconsumeTimes, g.body).toBe(1);
        expect(g.at - changedAt, g.body).toBeGreaterThanOrEqual(MIN_INVISIBLE_MS - 1000);
      } else {
        expect(g.reconsumeTimes, g.body).toBe(0);
      }
    }
    expect((await after.ackAll(got.map((g) => g.message))).every((status) => status === "OK")).toBe(true);
    // No acked message comes back: nothing is in flight and nothing is left to receive.
    await quietPeriod(500);
    expect(await after.receive(32, 60_000)).toEqual([]);
  });
});
