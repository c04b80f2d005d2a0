/**
 * Channels to queue objects (queue-channels.ts), as the producer's send channels, and how an auto-batched request uses them
 * (auto-batch.ts multiSendRequest), against fake sockets and a fake HTTP deployment: which
 * sends ride a channel and which go over HTTP, renewal before the age runs out, a channel that
 * ends or closes or goes quiet, and an opener that cannot open.
 */
import { describe, expect, it } from "vitest";
import { decodeFramed } from "../protocol/framed-messages.js";
import type { MultiSendItem } from "../protocol/multi-send.js";
import type { ChannelAnswer, ChannelFrame } from "../protocol/send-channel.js";
import type { MultiSendRequest } from "../protocol/schemas.js";
import { multiSendRequest } from "./auto-batch.js";
import type { PendingSend, SendOutcome } from "./produce-accumulator.js";
import { QueueChannels, type ChannelOpener, type ChannelSocketEvents } from "./queue-channels.js";
import { encodeChannelFrame } from "../protocol/send-channel.js";
import { Transport, type FetchLike } from "./transport.js";

const ok = (queueOffset: number): MultiSendItem => ({
  ok: true,
  result: {
    sendStatus: "SEND_OK",
    msgId: "",
    offsetMsgId: "",
    messageQueue: { topic: "T", brokerName: "b", queueId: 0 },
    queueOffset,
    msgIds: [],
    offsetMsgIds: [],
  },
});

/** A fake object behind each opened socket: frames it got, and a hand to answer them. */
function fakeObjects(options: { maxAgeMs?: number; refuse?: boolean } = {}) {
  const sockets: { frames: ChannelFrame[]; events: ChannelSocketEvents; readyState: number; closedBy: string | undefined }[] = [];
  const opener: ChannelOpener = async (url, _headers, events) => {
    if (options.refuse) throw new Error(`refused ${url}`);
    const socket = {
      frames: [] as ChannelFrame[],
      events,
      readyState: 1,
      closedBy: undefined as string | undefined,
      send(data: Uint8Array | string) {
        if (typeof data !== "string") this.frames.push(decodeFramed<ChannelFrame>(data) as unknown as ChannelFrame);
      },
      close() {
        socket.readyState = 3;
        socket.closedBy = "client";
        events.close(1000, "done");
      },
    };
    sockets.push(socket);
    queueMicrotask(() => events.message(JSON.stringify({ hello: { maxAgeMs: options.maxAgeMs ?? 3000 } })));
    return socket;
  };
  const answer = (socket: number, value: ChannelAnswer) => sockets[socket]!.events.message(JSON.stringify(value));
  return { sockets, opener, answer };
}

/** A fake HTTP deployment answering multi-queue sends; records the queues of each request. */
function fakeHttp() {
  const requests: MultiSendRequest[] = [];
  const fetch: FetchLike = async (_input, init) => {
    const request = JSON.parse(init.body as string) as MultiSendRequest;
    requests.push(request);
    return Response.json({ results: request.queues.flatMap((q) => q.messages.map(() => ok(-1))) });
  };
  return { requests, transport: new Transport({ endpoint: "http://mq.test", credentials: null, fetch }) };
}

/** A pending send; `deadline` by the clock the test gives the request (a minute after 0 for the fake clocks). */
const send = (queueId: number, body = "x", deadline = 60_000): PendingSend => ({
  mq: { topic: "T", brokerName: "b", queueId },
  message: { body, bodyEncoding: "utf8" },
  bytes: 1,
  deadline,
});
const sendNow = (queueId: number, body = "x") => send(queueId, body, Date.now() + 60_000);

const settle = () => new Promise((r) => setTimeout(r, 0));
const offsets = (outcomes: SendOutcome[]) => outcomes.map((o) => (o.ok ? o.result.queueOffset : (o.error as { code: string }).code));

/** A send request whose queue 0 has its channel open (its first send went over HTTP). */
async function withChannelOpen() {
  const objects = fakeObjects();
  const http = fakeHttp();
  const channels = new QueueChannels(http.transport, "channel", Date.now, objects.opener);
  const request = multiSendRequest(http.transport, Date.now, channels);
  await request("T", [sendNow(0)]);
  await settle();
  return { objects, http, request };
}

describe("send channels of a producer", () => {
  it("send over HTTP while a queue's channel opens, then over the channel; queues without one stay on HTTP", async () => {
    const clock = 0;
    const objects = fakeObjects();
    const http = fakeHttp();
    const channels = new QueueChannels(http.transport, "channel", () => clock, objects.opener);
    const request = multiSendRequest(http.transport, () => clock, channels);
    expect(offsets(await request("T", [send(0)]))).toEqual([-1]); // HTTP; queue 0's channel opens
    await settle();
    expect(objects.sockets).toHaveLength(1);
    const pending = request("T", [send(0, "a"), send(1, "b"), send(0, "c")]);
    await settle();
    expect(objects.sockets[0]!.frames.map((f) => f.messages.map((m) => new TextDecoder().decode(m.body)))).toEqual([["a", "c"]]);
    objects.answer(0, { id: 1, results: [ok(7), ok(8)] });
    expect(offsets(await pending)).toEqual([7, -1, 8]); // in send order: queue 1 went over HTTP
    expect(http.requests.map((r) => r.queues.map((q) => q.queueId))).toEqual([[0], [1]]);
  });

  it("stop using a channel near its age, with a successor opened before", async () => {
    let clock = 0;
    const objects = fakeObjects({ maxAgeMs: 3000 });
    const http = fakeHttp();
    const channels = new QueueChannels(http.transport, "channel", () => clock, objects.opener);
    const mq = send(0).mq;
    channels.channelFor(mq);
    await settle();
    const first = channels.channelFor(mq);
    expect(first).toBeDefined();
    clock = 1999;
    expect(channels.channelFor(mq)).toBe(first);
    expect(objects.sockets).toHaveLength(1);
    clock = 2000; // renew 1 s before the age
    expect(channels.channelFor(mq)).toBe(first);
    await settle();
    expect(objects.sockets).toHaveLength(2);
    const second = channels.channelFor(mq);
    expect(second).not.toBe(first);
    expect(objects.sockets[0]!.closedBy).toBe("client"); // nothing in flight on the first: closed at once
  });

  it("send a share over HTTP when its frame is refused CHANNEL_EXPIRED, and close the channel after its last answer", async () => {
    const { objects, http, request } = await withChannelOpen();
    const both = [request("T", [sendNow(0, "a")]), request("T", [sendNow(0, "b")])];
    await settle();
    objects.answer(0, { closing: { code: "CHANNEL_EXPIRED", message: "route changed" } });
    objects.answer(0, { id: 1, code: "CHANNEL_EXPIRED", message: "ended" });
    expect(objects.sockets[0]!.closedBy).toBeUndefined(); // frame 2 still unanswered
    objects.answer(0, { id: 2, results: [ok(5)] });
    expect((await Promise.all(both)).map(offsets)).toEqual([[-1], [5]]);
    expect(objects.sockets[0]!.closedBy).toBe("client");
    expect(http.requests).toHaveLength(2);
  });

  it("fail a frame NETWORK_ERROR when its socket closes first, and TIMEOUT when no answer comes in time", async () => {
    const objects = fakeObjects();
    const http = fakeHttp();
    const channels = new QueueChannels(http.transport, "channel", Date.now, objects.opener);
    channels.channelFor(send(0).mq);
    channels.channelFor(send(1).mq);
    await settle();
    const frame = (id: number) => encodeChannelFrame(id, [{ body: new Uint8Array([1]) }]);
    const lost = channels.channelFor(send(0).mq)!.request(frame, 60_000).reply;
    objects.sockets[0]!.events.close(1006, "gone");
    await expect(lost).rejects.toMatchObject({ code: "NETWORK_ERROR", retriable: true });
    const quiet = channels.channelFor(send(1).mq)!;
    await expect(quiet.request(frame, 20).reply).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(quiet.isClosed).toBe(true);
  });

  it("keep sends on HTTP when channels cannot be opened, or would live under a second", async () => {
    for (const objects of [fakeObjects({ refuse: true }), fakeObjects({ maxAgeMs: 500 })]) {
      const http = fakeHttp();
      let clock = 0;
      const channels = new QueueChannels(http.transport, "channel", () => clock, objects.opener);
      const request = multiSendRequest(http.transport, () => clock, channels);
      await request("T", [send(0)]);
      await settle();
      clock = 29_999;
      expect(offsets(await request("T", [send(0, "x", 90_000)]))).toEqual([-1]);
      await settle();
      expect(objects.sockets.length).toBeLessThanOrEqual(1); // not tried again within 30 s
      expect(http.requests).toHaveLength(2);
    }
  });

  it("close a channel whose queue was let go while it opened, and one let go after it opened once its frames are answered", async () => {
    const objects = fakeObjects();
    const channels = new QueueChannels(fakeHttp().transport, "pull-channel", Date.now, objects.opener);
    const mq = send(0).mq;
    channels.channelFor(mq);
    channels.release(mq);
    await settle();
    expect(objects.sockets[0]!.closedBy).toBe("client");
    const channel = (await channels.channelWhenOpen(mq))!;
    const { reply } = channel.request((id) => JSON.stringify({ id }), 60_000);
    channels.release(mq);
    expect(objects.sockets[1]!.closedBy).toBeUndefined(); // a frame is still unanswered
    objects.answer(1, { id: 1, results: [] });
    await reply;
    expect(objects.sockets[1]!.closedBy).toBe("client");
  });

  it("frame the caller's own bytes where it gave bytes, not a decoding of the base64 the HTTP form carries", async () => {
    const { objects, request } = await withChannelOpen();
    const raw = new Uint8Array([0, 255, 7]);
    const pending = request("T", [{ ...sendNow(0), message: { body: "eA==" }, body: raw }]);
    await settle();
    expect(objects.sockets[0]!.frames[0]!.messages[0]!.body).toEqual(raw);
    objects.answer(0, { id: 1, results: [ok(3)] });
    expect(offsets(await pending)).toEqual([3]);
  });
});
