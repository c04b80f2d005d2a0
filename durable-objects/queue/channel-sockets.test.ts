/**
 * The queue object's channels (channel-sockets.ts, send-frames.ts, pull-frames.ts): a real queue
 * object reached as the Worker reaches it (the forwarded upgrade and its grant), and the fair cap
 * with a stand-in object state, as the parked pulls' cap is tested.
 */
import { describe, expect, it, vi } from "vitest";
import { encodeChannelFrame, type ChannelAnswer } from "../../protocol/send-channel.js";
import { Limits } from "../../protocol/limits.js";
import type { MessageQueue } from "../../protocol/message.js";
import { newQueue } from "../test-support.js";
import { CHANNEL_GRANT_HEADER, CHANNEL_PATHS, ChannelSockets, type ChannelGrant, type ChannelKind } from "./channel-sockets.js";
import { decodeFramed } from "../../protocol/framed-messages.js";
import type { PullChannelAnswerHead } from "../../protocol/pull-channel.js";

const bytes = (text: string) => new TextEncoder().encode(text);

interface Opened {
  ws: WebSocket;
  answers: ChannelAnswer[];
  /** Binary answers (a pull channel's), decoded. */
  pulls: PullChannelAnswerHead[];
  closed: Promise<number>;
  answer(id: number): Promise<ChannelAnswer>;
}

function listen(ws: WebSocket): Opened {
  ws.accept();
  const answers: ChannelAnswer[] = [];
  const pulls: PullChannelAnswerHead[] = [];
  ws.addEventListener("message", (e) => {
    if (typeof e.data === "string") return void answers.push(JSON.parse(e.data) as ChannelAnswer);
    // workerd hands binary messages over as a Blob.
    void (e.data as Blob).arrayBuffer().then((bytes) => pulls.push(decodeFramed(new Uint8Array(bytes)) as unknown as PullChannelAnswerHead));
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  const answer = (id: number) => vi.waitFor(() => answers.find((a) => "id" in a && a.id === id) ?? Promise.reject(new Error(`no answer ${id} yet`)));
  return { ws, answers, pulls, closed, answer };
}

async function open(target: { fetch(url: string, init: RequestInit): Promise<Response> }, grant: ChannelGrant, kind: ChannelKind = "send"): Promise<Opened> {
  const res = await target.fetch(`https://object${CHANNEL_PATHS[kind]}`, {
    headers: { Upgrade: "websocket", [CHANNEL_GRANT_HEADER]: encodeURIComponent(JSON.stringify(grant)) },
  });
  if (res.status !== 101 || !res.webSocket) throw new Error(`refused: ${res.status} ${await res.text()}`);
  return listen(res.webSocket);
}

const grantFor = (mq: MessageQueue, maxAgeMs = 60_000, account = "app"): ChannelGrant => ({ account, mq, bornHost: "10.0.0.7", maxAgeMs });

describe("channels of a queue object", () => {
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

  it("all end when the route changes (endChannels): told so, and refusing later frames whole", async () => {
    const { q, mq } = newQueue("ChanRoute");
    const a = await open(q, grantFor(mq));
    const b = await open(q, grantFor(mq, 60_000, "other"));
    expect((await q.stats()).sendChannels).toBe(2);
    expect(await q.endChannels()).toBe(2);
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
    const channels = new ChannelSockets({ ctx: state, now: () => clock++, max: 2 });
    const target = { fetch: (url: string, init: RequestInit) => Promise.resolve(channels.accept(new Request(url, init), "send")) };
    const mq = { topic: "T", brokerName: "broker-a", queueId: 0 };
    const first = await open(target, grantFor(mq, 60_000, "busy"));
    await open(target, grantFor(mq, 60_000, "busy"));
    await open(target, grantFor(mq, 60_000, "app"));
    expect(await first.closed).toBe(4429);
    await vi.waitFor(() => expect(channels.size("send")).toBe(2));
    // One each now: taking the other's place would only swap who is short.
    const refused = await target.fetch(`https://object${CHANNEL_PATHS.send}`, {
      headers: { Upgrade: "websocket", [CHANNEL_GRANT_HEADER]: encodeURIComponent(JSON.stringify(grantFor(mq, 60_000, "busy"))) },
    });
    expect([refused.status, (await refused.json<{ code: string }>()).code]).toEqual([429, "TOO_MANY_CHANNELS"]);
  });

  it("answer a pull at once when there is something, else park it until an append, answering with the messages", async () => {
    const { q, mq } = newQueue("ChanPull");
    const sender = await open(q, grantFor(mq));
    sender.ws.send(encodeChannelFrame(1, [{ body: bytes("first"), tags: "A" }]));
    await sender.answer(1);
    const puller = await open(q, grantFor(mq), "pull");
    const pull = (id: number, offset: number, extra: object = {}) =>
      puller.ws.send(JSON.stringify({ id, pull: { offset, maxNums: 32, expression: "*", expressionType: "TAG", maxWaitMs: 30_000, ...extra } }));
    const pulled = (id: number) => vi.waitFor(() => puller.pulls.find((p) => p.id === id) ?? Promise.reject(new Error(`no pull answer ${id}`)));
    pull(1, 0);
    expect(await pulled(1)).toMatchObject({ pullStatus: "FOUND", nextBeginOffset: 1, messages: [{ queueOffset: 0, tags: "A", body: bytes("first") }] });

    pull(2, 1); // nothing yet: parked
    await new Promise((r) => setTimeout(r, 20));
    expect(puller.pulls.find((p) => p.id === 2)).toBeUndefined();
    sender.ws.send(encodeChannelFrame(2, [{ body: bytes("second") }]));
    expect(await pulled(2)).toMatchObject({ pullStatus: "FOUND", nextBeginOffset: 2, messages: [{ queueOffset: 1, body: bytes("second") }] });

    // A filtered pull moves past what does not match while parked, and a cancel answers it with how far it got.
    pull(3, 2, { expression: "B" });
    sender.ws.send(encodeChannelFrame(3, [{ body: bytes("not B"), tags: "A" }]));
    await sender.answer(3);
    puller.ws.send(JSON.stringify({ cancel: 3 }));
    expect(await pulled(3)).toMatchObject({ pullStatus: "NO_MATCHED_MSG", nextBeginOffset: 3, messages: [] });
    pull(4, 3, { maxWaitMs: 0 });
    expect(await pulled(4)).toMatchObject({ pullStatus: "NO_NEW_MSG", nextBeginOffset: 3 });
    expect((await q.stats()).pullChannels).toBe(1);
  });

  it("answer a parked member pull NOT_QUEUE_OWNER when the group moves the queue, and refuse a bad pull frame", async () => {
    const { q, mq } = newQueue("ChanOwner");
    await q.setOwner("G", "member-1", 1);
    const puller = await open(q, grantFor(mq), "pull");
    puller.ws.send(
      JSON.stringify({
        id: 1,
        pull: { offset: 0, maxNums: 32, expression: "*", expressionType: "TAG", maxWaitMs: 30_000, group: "G", fence: { clientId: "member-1", generation: 1 } },
      }),
    );
    await new Promise((r) => setTimeout(r, 20));
    await q.setOwner("G", "member-2", 2);
    expect(await puller.answer(1)).toMatchObject({ id: 1, code: "NOT_QUEUE_OWNER" });
    puller.ws.send(JSON.stringify({ id: 2, pull: { offset: 0, maxNums: 33, expression: "*", expressionType: "TAG", maxWaitMs: 0 } }));
    expect(await puller.answer(2)).toMatchObject({ id: 2, code: "VALIDATION_FAILED" });
    puller.ws.send(JSON.stringify({ id: 3, pull: { offset: 0, maxNums: 1, expression: "a ||", expressionType: "SQL92", maxWaitMs: 0 } }));
    expect(await puller.answer(3)).toMatchObject({ id: 3, code: "INVALID_FILTER_EXPRESSION" });
  });
});
