/**
 * The queue object's send channels (send-channels.ts): a real queue object reached as the Worker
 * reaches it (the forwarded upgrade and its grant), and the fair cap with a stand-in object
 * state, as the parked pulls' cap is tested.
 */
import { describe, expect, it, vi } from "vitest";
import { encodeChannelFrame, type ChannelAnswer } from "../../protocol/send-channel.js";
import { Limits } from "../../protocol/limits.js";
import type { MessageQueue } from "../../protocol/message.js";
import { newQueue } from "../test-support.js";
import { SEND_CHANNEL_HEADER, SEND_CHANNEL_PATH, SendChannels, type SendChannelGrant } from "./send-channels.js";

const bytes = (text: string) => new TextEncoder().encode(text);

interface Opened {
  ws: WebSocket;
  answers: ChannelAnswer[];
  closed: Promise<number>;
  answer(id: number): Promise<ChannelAnswer>;
}

function listen(ws: WebSocket): Opened {
  ws.accept();
  const answers: ChannelAnswer[] = [];
  ws.addEventListener("message", (e) => answers.push(JSON.parse(e.data as string) as ChannelAnswer));
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  const answer = (id: number) => vi.waitFor(() => answers.find((a) => "id" in a && a.id === id) ?? Promise.reject(new Error(`no answer ${id} yet`)));
  return { ws, answers, closed, answer };
}

async function open(target: { fetch(url: string, init: RequestInit): Promise<Response> }, grant: SendChannelGrant): Promise<Opened> {
  const res = await target.fetch(`https://object${SEND_CHANNEL_PATH}`, {
    headers: { Upgrade: "websocket", [SEND_CHANNEL_HEADER]: encodeURIComponent(JSON.stringify(grant)) },
  });
  if (res.status !== 101 || !res.webSocket) throw new Error(`refused: ${res.status} ${await res.text()}`);
  return listen(res.webSocket);
}

const grantFor = (mq: MessageQueue, maxAgeMs = 60_000, account = "app"): SendChannelGrant => ({ account, mq, bornHost: "10.0.0.7", maxAgeMs });

describe("send channels of a queue object", () => {
  it("store a frame's messages through the group commit, each answered with its own result", async () => {
    const { q, mq } = newQueue("Chan");
    const ch = await open(q, grantFor(mq));
    await vi.waitFor(() => expect(ch.answers[0]).toEqual({ hello: { maxAgeMs: 60_000 } }));
    ch.ws.send(
      encodeChannelFrame(7, [
        { body: bytes("a"), msgId: "ID0001" },
        { body: bytes("b"), keys: ["k"] },
      ]),
    );
    const answer = await ch.answer(7);
    expect("results" in answer && answer.results.map((r) => r.ok && [r.result.queueOffset, r.result.messageQueue])).toEqual([
      [0, mq],
      [1, mq],
    ]);
    const stats = await q.stats();
    expect([stats.maxOffset, stats.channelFrames, stats.sendChannels]).toEqual([2, 1, 1]);
    const stored = await q.getMessage(0);
    expect([stored?.message.msgId, stored?.message.bornHost]).toEqual(["ID0001", "10.0.0.7"]);
    // The same msgId again (a producer's retry after a lost answer) is folded into the first store.
    ch.ws.send(encodeChannelFrame(8, [{ body: bytes("a"), msgId: "ID0001" }]));
    const again = await ch.answer(8);
    expect("results" in again && again.results[0]?.ok && again.results[0].result.queueOffset).toBe(0);
    expect((await q.stats()).maxOffset).toBe(2);
    // A frame's messages are one group commit: one log row.
    const rowsBefore = (await q.stats()).rowsWritten;
    ch.ws.send(encodeChannelFrame(9, [{ body: bytes("c") }, { body: bytes("d") }, { body: bytes("e") }]));
    await ch.answer(9);
    expect((await q.stats()).rowsWritten - rowsBefore).toBe(1);
  });

  it("refuse a frame whole when its bodies exceed a batch's, and every frame once the channel is past its age", async () => {
    const { q, mq } = newQueue("ChanAge");
    const ch = await open(q, grantFor(mq));
    const MiB = 1024 * 1024;
    const big = Array.from({ length: Math.floor(Limits.maxBatchBodyBytes / MiB) + 1 }, () => ({ body: new Uint8Array(MiB) }));
    ch.ws.send(encodeChannelFrame(1, big));
    expect(await ch.answer(1)).toMatchObject({ id: 1, code: "MESSAGE_BODY_TOO_LARGE" });

    const old = await open(q, grantFor(mq, 0));
    await new Promise((r) => setTimeout(r, 5));
    old.ws.send(encodeChannelFrame(2, [{ body: bytes("late") }]));
    expect(await old.answer(2)).toMatchObject({ id: 2, code: "CHANNEL_EXPIRED" });
    // Told once that it has ended; left open for its producer to close after its last answer.
    expect(old.answers.filter((a) => "closing" in a)).toEqual([
      { closing: { code: "CHANNEL_EXPIRED", message: expect.stringContaining("older than 0 ms") as string } },
    ]);
    old.ws.send(encodeChannelFrame(3, [{ body: bytes("later") }]));
    expect(await old.answer(3)).toMatchObject({ id: 3, code: "CHANNEL_EXPIRED" });
    expect((await q.stats()).maxOffset).toBe(0);
    old.ws.close(1000, "done");
    expect(await old.closed).toBe(1000);
  });

  it("all end when the route changes (closeSendChannels): told so, and refusing later frames whole", async () => {
    const { q, mq } = newQueue("ChanRoute");
    const a = await open(q, grantFor(mq));
    const b = await open(q, grantFor(mq, 60_000, "other"));
    expect((await q.stats()).sendChannels).toBe(2);
    expect(await q.closeSendChannels()).toBe(2);
    for (const ch of [a, b]) await vi.waitFor(() => expect(ch.answers.some((x) => "closing" in x)).toBe(true));
    expect((await q.stats()).sendChannels).toBe(0);
    a.ws.send(encodeChannelFrame(1, [{ body: bytes("after") }]));
    expect(await a.answer(1)).toMatchObject({ code: "CHANNEL_EXPIRED" });
    expect((await q.stats()).maxOffset).toBe(0);
  });

  it("share their cap fairly: a full queue lets another account in by closing the busiest one's oldest", async () => {
    const sockets = new Map<WebSocket, string[]>();
    const state = {
      acceptWebSocket(ws: WebSocket, tags: string[] = []) {
        ws.accept();
        sockets.set(ws, tags);
        ws.addEventListener("close", () => sockets.delete(ws));
      },
      getWebSockets: (tag?: string) => [...sockets].filter(([, tags]) => tag === undefined || tags.includes(tag)).map(([ws]) => ws),
      getTags: (ws: WebSocket) => sockets.get(ws) ?? [],
    };
    let clock = 1000;
    const channels = new SendChannels({ ctx: state, appendEach: () => Promise.resolve([]), now: () => clock++, max: 2 });
    const target = { fetch: (url: string, init: RequestInit) => Promise.resolve(channels.accept(new Request(url, init))) };
    const mq = { topic: "T", brokerName: "broker-a", queueId: 0 };
    const first = await open(target, grantFor(mq, 60_000, "busy"));
    await open(target, grantFor(mq, 60_000, "busy"));
    await open(target, grantFor(mq, 60_000, "app"));
    expect(await first.closed).toBe(4429);
    await vi.waitFor(() => expect(channels.size).toBe(2));
    // One each now: taking the other's place would only swap who is short.
    const refused = await target.fetch(`https://object${SEND_CHANNEL_PATH}`, {
      headers: { Upgrade: "websocket", [SEND_CHANNEL_HEADER]: encodeURIComponent(JSON.stringify(grantFor(mq, 60_000, "busy"))) },
    });
    expect([refused.status, (await refused.json<{ code: string }>()).code]).toEqual([429, "TOO_MANY_CHANNELS"]);
  });
});
