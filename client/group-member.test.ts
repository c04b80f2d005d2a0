import { afterEach, describe, expect, it, vi } from "vitest";
import type { HeartbeatResponse, Subscription } from "../protocol/consumer.js";
import { isMQError } from "../protocol/errors.js";
import type { MessageQueue } from "../protocol/message.js";
import { GroupMember, newClientId, type MemberOptions } from "./group-member.js";
import { Transport, type FetchLike } from "./transport.js";
import { deferred } from "./test-support/promises.js";

interface Call {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  headers: Record<string, string>;
  signal: AbortSignal;
}

type Answer = Response | Promise<Response>;

/** A call that never answers until its signal aborts (the default watch long poll). */
function hang(signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function response(generation: number, assignment: MessageQueue[] = []): HeartbeatResponse {
  return { generation, assignment, offsetResetSeq: 0, members: 1, sessionTimeoutMs: 30_000 };
}

/**
 * A fake group endpoint. Heartbeats answer with `heartbeat(call, n)` (default: generation
 * `generation`, the test moves it); watches answer with `watch(call, n)` (default: hang until
 * aborted); DELETE of a member answers `{ left: true }`.
 */
function fakeGroup() {
  const calls: Call[] = [];
  const fake = {
    calls,
    generation: 1,
    heartbeat: (_call: Call, _n: number): Answer => Response.json(response(fake.generation)),
    watch: (call: Call, _n: number): Answer => hang(call.signal),
    remove: (_call: Call): Answer => Response.json({ left: true }),
    heartbeats: () => calls.filter((c) => c.method === "POST" && c.path.endsWith("/heartbeat")),
    watches: () => calls.filter((c) => c.method === "GET" && c.path.endsWith("/watch")),
    deletes: () => calls.filter((c) => c.method === "DELETE"),
    fetch: (async (input, init) => {
      const url = new URL(input);
      const call: Call = {
        method: init.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
        headers: { ...(init.headers as Record<string, string> | undefined) },
        signal: init.signal!,
      };
      calls.push(call);
      if (call.method === "POST" && call.path.endsWith("/heartbeat")) return fake.heartbeat(call, fake.heartbeats().length);
      if (call.method === "GET" && call.path.endsWith("/watch")) return fake.watch(call, fake.watches().length);
      if (call.method === "DELETE") return fake.remove(call);
      return Response.json({ code: "NOT_FOUND", message: call.path }, { status: 404 });
    }) as FetchLike,
  };
  return fake;
}

const SUBS: Subscription[] = [
  { topic: "TopicA", expressionType: "TAG", expression: "TagA || TagB" },
  { topic: "%RETRY%G1", expressionType: "TAG", expression: "*" },
];

function options(extra: Partial<MemberOptions> = {}): MemberOptions {
  return {
    group: "G1",
    clientId: "client-1",
    messageModel: "CLUSTERING",
    heartbeatIntervalMs: 60_000,
    sessionTimeoutMs: 120_000,
    ...extra,
  };
}

const members: GroupMember[] = [];

function member(
  fake: ReturnType<typeof fakeGroup>,
  opts: MemberOptions = options(),
  subscriptions: () => Subscription[] = () => SUBS,
): { m: GroupMember; seen: HeartbeatResponse[] } {
  const seen: HeartbeatResponse[] = [];
  const m = new GroupMember(new Transport({ endpoint: "http://mq.test", fetch: fake.fetch }), opts, subscriptions, (r) => {
    seen.push(r);
  });
  members.push(m);
  return { m, seen };
}

afterEach(async () => {
  // Ends every watch loop and timer a test left behind.
  await Promise.all(members.splice(0).map((m) => m.stop(false)));
  vi.useRealTimers();
});

describe("GroupMember heartbeats", () => {
  it("posts the member's settings, subscriptions and configured queues", async () => {
    const fake = fakeGroup();
    const configuredQueues: MessageQueue[] = [
      { topic: "TopicA", brokerName: "broker-a", queueId: 1 },
      { topic: "TopicA", brokerName: "broker-b", queueId: 3 },
    ];
    const { m } = member(fake, options({ group: "G 1", clientId: "c@1", allocateStrategy: "CONFIG", zone: "zone-1", configuredQueues }));
    await m.start();
    expect(fake.heartbeats()).toHaveLength(1);
    const beat = fake.heartbeats()[0]!;
    expect(beat.path).toBe("/groups/G%201/heartbeat");
    expect(beat.headers).toEqual({ "accept-encoding": "identity", "content-type": "application/json" });
    expect(beat.body).toEqual({
      clientId: "c@1",
      messageModel: "CLUSTERING",
      subscriptions: SUBS,
      heartbeatIntervalMs: 60_000,
      sessionTimeoutMs: 120_000,
      allocateStrategy: "CONFIG",
      zone: "zone-1",
      configuredQueues,
      heldQueues: [], // nothing read yet; no generation before the first answer
    });
  });

  it("leaves out the optional fields it was not given", async () => {
    const fake = fakeGroup();
    const { m } = member(fake, options({ messageModel: "BROADCASTING" }));
    await m.start();
    const body = fake.heartbeats()[0]!.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["clientId", "heartbeatIntervalMs", "heldQueues", "messageModel", "sessionTimeoutMs", "subscriptions"]);
    expect(body.messageModel).toBe("BROADCASTING");
  });

  it("hands every answer to onAssignment and keeps the last as current", async () => {
    const fake = fakeGroup();
    const mqA = { topic: "TopicA", brokerName: "broker-a", queueId: 0 };
    const mqB = { topic: "TopicA", brokerName: "broker-b", queueId: 2 };
    fake.heartbeat = (_call, n) => Response.json(n === 1 ? response(1, [mqA]) : response(4, [mqB]));
    const subs = [...SUBS];
    const { m, seen } = member(fake, options(), () => subs);
    expect(m.current).toBeUndefined();
    await m.start();
    expect(seen).toEqual([response(1, [mqA])]);
    expect(m.current).toEqual(response(1, [mqA]));
    // The subscriptions are read afresh for every heartbeat.
    subs.push({ topic: "TopicB", expressionType: "SQL92", expression: "a > 1" });
    await m.beatSoon();
    expect((fake.heartbeats()[1]!.body as { subscriptions: Subscription[] }).subscriptions).toEqual(subs);
    expect(seen).toEqual([response(1, [mqA]), response(4, [mqB])]);
    expect(m.current).toEqual(response(4, [mqB]));
  });

  it("beatSoon() shares one request among concurrent callers", async () => {
    const fake = fakeGroup();
    const { m, seen } = member(fake);
    await m.start();
    const gate = deferred<Response>();
    fake.heartbeat = () => gate.promise;
    const a = m.beatSoon();
    const b = m.beatSoon();
    const c = m.beatSoon();
    expect(b).toBe(a);
    expect(c).toBe(a);
    await vi.waitFor(() => expect(fake.heartbeats()).toHaveLength(2)); // the request goes out after the credentials lookup
    expect(fake.heartbeats()).toHaveLength(2);
    gate.resolve(Response.json(response(2)));
    await Promise.all([a, b, c]);
    expect(fake.heartbeats()).toHaveLength(2);
    expect(seen.map((r) => r.generation)).toEqual([1, 2]);
    // Once it settled, the next call makes a new request.
    fake.heartbeat = () => Response.json(response(3));
    const d = m.beatSoon();
    expect(d).not.toBe(a);
    await d;
    expect(fake.heartbeats()).toHaveLength(3);
    expect(seen.map((r) => r.generation)).toEqual([1, 2, 3]);
  });

  it("beatSoon() never rejects; a failed heartbeat keeps the last answer", async () => {
    const fake = fakeGroup();
    const { m, seen } = member(fake);
    await m.start();
    fake.heartbeat = () => Response.json({ code: "SESSION_TIMEOUT_ILLEGAL", message: "no" }, { status: 400 });
    await expect(m.beatSoon()).resolves.toBeUndefined();
    fake.heartbeat = () => Promise.reject(new TypeError("fetch failed"));
    await expect(m.beatSoon()).resolves.toBeUndefined();
    expect(fake.heartbeats()).toHaveLength(3);
    expect(seen).toEqual([response(1)]);
    expect(m.current).toEqual(response(1));
  });

  it("start() fails when the group refuses the member, and starts no watch", async () => {
    vi.useFakeTimers(); // the wait below, for what must not happen, runs on a driven clock
    const fake = fakeGroup();
    fake.heartbeat = () => Response.json({ code: "SESSION_TIMEOUT_ILLEGAL", message: "sessionTimeoutMs must be within 3000..300000" }, { status: 400 });
    const { m, seen } = member(fake);
    let error: unknown;
    try {
      await m.start();
    } catch (e) {
      error = e;
    }
    expect(isMQError(error) && error.code).toBe("SESSION_TIMEOUT_ILLEGAL");
    expect((error as Error).message).toBe("sessionTimeoutMs must be within 3000..300000");
    await vi.advanceTimersByTimeAsync(10);
    expect(fake.watches()).toHaveLength(0);
    expect(seen).toEqual([]);
    expect(m.current).toBeUndefined();
  });

  it("start() survives a busy group (503: the server answered) and watches from generation 0", async () => {
    const fake = fakeGroup();
    fake.heartbeat = () => Response.json({ code: "SERVICE_UNAVAILABLE", message: "busy" }, { status: 503 });
    const { m, seen } = member(fake);
    await m.start();
    expect(seen).toEqual([]);
    expect(m.current).toBeUndefined();
    await vi.waitFor(() => expect(fake.watches()).toHaveLength(1));
    expect(fake.watches()[0]!.query).toEqual({ generation: "0", maxWaitMs: "20000" });
  });

  it("start() fails when the server cannot be reached at all, and starts no watch", async () => {
    const fake = fakeGroup();
    fake.heartbeat = () => Promise.reject(new TypeError("fetch failed"));
    const { m, seen } = member(fake);
    const error = await m.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isMQError(error) && error.code).toBe("NETWORK_ERROR");
    expect(fake.watches()).toHaveLength(0);
    expect(seen).toEqual([]);
  });

  it("reports a heartbeat that failed after start to onError, and carries on", async () => {
    const fake = fakeGroup();
    const errors: string[] = [];
    const { m } = member(fake, { ...options(), onError: (e: unknown, where: string) => void errors.push(`${where}: ${isMQError(e) ? e.code : String(e)}`) });
    await m.start();
    fake.heartbeat = () => Promise.reject(new TypeError("fetch failed"));
    await m.beatSoon();
    expect(errors).toEqual(["heartbeat: NETWORK_ERROR"]);
  });

  it("heartbeats on its interval until stopped", async () => {
    vi.useFakeTimers(); // the interval and the wait for what must not happen run on a driven clock
    const fake = fakeGroup();
    const { m, seen } = member(fake, options({ heartbeatIntervalMs: 20 }));
    await m.start();
    await vi.waitFor(() => expect(fake.heartbeats().length).toBeGreaterThanOrEqual(3), { timeout: 2000, interval: 5 });
    await m.stop(false);
    const count = fake.heartbeats().length;
    await vi.advanceTimersByTimeAsync(100); // five intervals: a timer left running would beat again
    expect(fake.heartbeats()).toHaveLength(count);
    // Every answer before the stop reached the handler (one in flight at the stop may not).
    expect(seen.length).toBeGreaterThanOrEqual(count - 1);
    expect(seen.length).toBeLessThanOrEqual(count);
  });
});

describe("GroupMember stop", () => {
  it("stop(true) leaves the group with DELETE /groups/<g>/members/<id> and ends the watch", async () => {
    vi.useFakeTimers(); // the wait below, for what must not happen, runs on a driven clock
    const fake = fakeGroup();
    const { m } = member(fake, options({ group: "G1", clientId: "c@1/x" }));
    await m.start();
    await vi.waitFor(() => expect(fake.watches()).toHaveLength(1));
    const watch = fake.watches()[0]!;
    expect(watch.signal.aborted).toBe(false);
    await m.stop(true);
    expect(fake.deletes()).toHaveLength(1);
    expect(fake.deletes()[0]!.path).toBe("/groups/G1/members/c%401%2Fx");
    expect(fake.deletes()[0]!.body).toBeUndefined();
    expect(watch.signal.aborted).toBe(true);
    // No new watch after the stop, not even after the pause a failed poll takes (1 s at most).
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fake.watches()).toHaveLength(1);
  });

  it("stop(false) does not leave, and a failed DELETE does not fail stop(true)", async () => {
    const fake = fakeGroup();
    const { m } = member(fake);
    await m.start();
    await m.stop(false);
    expect(fake.deletes()).toHaveLength(0);

    const failing = fakeGroup();
    failing.remove = () => Response.json({ code: "INTERNAL_ERROR", message: "down" }, { status: 500 });
    const { m: m2 } = member(failing);
    await m2.start();
    await expect(m2.stop(true)).resolves.toBeUndefined();
    expect(failing.deletes()).toHaveLength(1);
  });

  it("waits for a heartbeat in flight, whose answer no longer reaches the handler", async () => {
    vi.useFakeTimers(); // the wait below, for what must not happen, runs on a driven clock
    const fake = fakeGroup();
    const { m, seen } = member(fake);
    await m.start();
    const gate = deferred<Response>();
    fake.heartbeat = () => gate.promise;
    void m.beatSoon();
    let stopped = false;
    const stopping = m.stop(false).then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false);
    gate.resolve(Response.json(response(9)));
    await stopping;
    expect(seen.map((r) => r.generation)).toEqual([1]);
    expect(m.current?.generation).toBe(9);
  });
});

describe("GroupMember watch", () => {
  it("long-polls with the known generation and heartbeats at once when it moved", async () => {
    const fake = fakeGroup();
    const first = deferred<Response>();
    fake.watch = (call, n) => (n === 1 ? first.promise : hang(call.signal));
    const { m, seen } = member(fake);
    await m.start();
    await vi.waitFor(() => expect(fake.watches()).toHaveLength(1));
    expect(fake.watches()[0]!.path).toBe("/groups/G1/watch");
    expect(fake.watches()[0]!.query).toEqual({ generation: "1", maxWaitMs: "20000" });
    expect(fake.heartbeats()).toHaveLength(1);

    fake.generation = 5;
    first.resolve(Response.json({ generation: 5 }));
    await vi.waitFor(() => expect(fake.watches()).toHaveLength(2));
    expect(fake.heartbeats()).toHaveLength(2);
    expect(seen.map((r) => r.generation)).toEqual([1, 5]);
    // The next poll waits on the generation the heartbeat brought.
    expect(fake.watches()[1]!.query).toEqual({ generation: "5", maxWaitMs: "20000" });
  });

  it("does not heartbeat when the poll ends with the same generation", async () => {
    const fake = fakeGroup();
    fake.watch = (call, n) => (n <= 2 ? Response.json({ generation: 1 }) : hang(call.signal));
    const { m, seen } = member(fake);
    await m.start();
    await vi.waitFor(() => expect(fake.watches()).toHaveLength(3));
    expect(fake.watches().map((w) => w.query.generation)).toEqual(["1", "1", "1"]);
    expect(fake.heartbeats()).toHaveLength(1);
    expect(seen.map((r) => r.generation)).toEqual([1]);
  });

  it("pauses after a failed poll before polling again", async () => {
    vi.useFakeTimers(); // the pause runs on a driven clock, which Date.now() reads too
    const fake = fakeGroup();
    const at: number[] = [];
    fake.watch = (call, n) => {
      at.push(Date.now());
      return n === 1 ? Response.json({ code: "SERVICE_UNAVAILABLE", message: "busy" }, { status: 503 }) : hang(call.signal);
    };
    const { m } = member(fake, options({ heartbeatIntervalMs: 150 }));
    await m.start();
    await vi.waitFor(() => expect(fake.watches()).toHaveLength(2), { timeout: 2000, interval: 5 });
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(140);
  });
});

describe("newClientId", () => {
  it("makes distinct ids the group's client id rule accepts", () => {
    const ids = Array.from({ length: 50 }, () => newClientId());
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_.:@#|-]+$/);
  });
});
