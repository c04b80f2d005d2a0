/**
 * TransactionProducer against a fake deployment (an injected fetch): half message, local
 * transaction, decision, and the check-back loop.
 * Longer than ~350 lines because the send path and the check-back loop share one fake deployment
 * (half messages, decisions and checks are one conversation); the two describes split it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ErrorCodes, type ErrorCode } from "../protocol/errors.js";
import type { MessageExtWire, SendResult } from "../protocol/message.js";
import type { MessageIn } from "../protocol/schemas.js";
import type { EndTransactionResult, LocalTransactionState, TransactionCheck } from "../protocol/transaction.js";
import type { Message, MessageExt } from "./message.js";
import { TransactionProducer, type TransactionListener, type TransactionProducerOptions } from "./transaction-producer.js";
import type { FetchLike } from "./transport.js";
import { routeAnswer, TWO_BROKERS } from "./test-support/routes.js";
import { codeOf } from "./test-support/producers.js";

const GROUP = "TPG";

interface HalfPost {
  brokerName: string;
  topic: string;
  queueId: number;
  body: { messages: MessageIn[]; transaction?: { producerGroup: string } };
}

interface DecisionPost {
  brokerName: string;
  topic: string;
  queueId: number;
  transactionId: string;
  body: { producerGroup: string; decision: LocalTransactionState; fromTransactionCheck?: boolean };
}

interface Poll {
  group: string;
  maxWaitMs: string | null;
}

type Answer = ErrorCode | "OK";

/** How long a local transaction takes, on the real clock (work, not a wait for anything). */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Timers on a driven clock, for a test that waits to see something NOT happen (another poll,
 * another decision): the wait is advanced, not slept. Date stays real, so "promptly" in those
 * tests still means wall-clock time; vi.waitFor advances the timers as it polls.
 */
function driveTimers(): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
}

/**
 * A fake deployment: routes, half-message sends (answered with transactionId `tx-<msgId>`),
 * decisions, and the check long poll. Each check poll takes the next entry of `checkScript`
 * at once: a list of checks, or an error code; when the script is used up, a poll is held
 * until its maxWaitMs passes (then answers an empty list) or it is aborted.
 */
function fakeDeployment(
  options: {
    sendAnswer?: (post: HalfPost, n: number) => Answer;
    decisionAnswer?: (post: DecisionPost) => Answer;
    checkScript?: (TransactionCheck[] | ErrorCode)[];
  } = {},
) {
  const log: string[] = [];
  const sends: HalfPost[] = [];
  const decisions: DecisionPost[] = [];
  const polls: Poll[] = [];
  const script = [...(options.checkScript ?? [])];
  const state = { pollsInflight: 0, maxPollsInflight: 0, abortedPolls: 0 };
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const path = url.pathname;
    const routed = routeAnswer(path, init.method, { T: TWO_BROKERS });
    if (routed) return routed;
    const s = /^\/brokers\/([^/]+)\/topics\/([^/]+)\/queues\/(\d+)\/messages$/.exec(path);
    if (s && init.method === "POST") {
      const post: HalfPost = {
        brokerName: decodeURIComponent(s[1]!),
        topic: decodeURIComponent(s[2]!),
        queueId: Number(s[3]),
        body: JSON.parse(init.body as string) as HalfPost["body"],
      };
      sends.push(post);
      log.push("half");
      const a = options.sendAnswer?.(post, sends.length) ?? "OK";
      if (a !== "OK") return Response.json({ code: a, message: a }, { status: ErrorCodes[a] });
      const msgId = post.body.messages[0]!.msgId!;
      const result: SendResult = {
        sendStatus: "SEND_OK",
        msgId,
        offsetMsgId: "",
        messageQueue: { topic: post.topic, brokerName: post.brokerName, queueId: post.queueId },
        queueOffset: -1,
        msgIds: [msgId],
        offsetMsgIds: [""],
        transactionId: `tx-${msgId}`,
      };
      return Response.json(result);
    }
    const d = /^\/brokers\/([^/]+)\/topics\/([^/]+)\/queues\/(\d+)\/transactions\/([^/]+)$/.exec(path);
    if (d && init.method === "POST") {
      const post: DecisionPost = {
        brokerName: decodeURIComponent(d[1]!),
        topic: decodeURIComponent(d[2]!),
        queueId: Number(d[3]),
        transactionId: decodeURIComponent(d[4]!),
        body: JSON.parse(init.body as string) as DecisionPost["body"],
      };
      decisions.push(post);
      log.push(`decision ${post.body.decision}`);
      const a = options.decisionAnswer?.(post) ?? "OK";
      if (a !== "OK") return Response.json({ code: a, message: a }, { status: ErrorCodes[a] });
      const result: EndTransactionResult = {
        transactionId: post.transactionId,
        state: post.body.decision === "COMMIT_MESSAGE" ? "COMMITTED" : "ROLLED_BACK",
        queueOffset: post.body.decision === "COMMIT_MESSAGE" ? 0 : null,
      };
      return Response.json(result);
    }
    const c = /^\/producers\/([^/]+)\/checks$/.exec(path);
    if (c && init.method === "GET") {
      polls.push({ group: decodeURIComponent(c[1]!), maxWaitMs: url.searchParams.get("maxWaitMs") });
      log.push("poll");
      state.pollsInflight++;
      state.maxPollsInflight = Math.max(state.maxPollsInflight, state.pollsInflight);
      try {
        const next = script.shift();
        if (typeof next === "string") return Response.json({ code: next, message: next }, { status: ErrorCodes[next] });
        if (next) return Response.json({ checks: next });
        const waitMs = Number(url.searchParams.get("maxWaitMs") ?? 0);
        await new Promise<void>((resolve, reject) => {
          const signal = init.signal!;
          const timer = setTimeout(resolve, waitMs);
          const onAbort = (): void => {
            clearTimeout(timer);
            state.abortedPolls++;
            reject(signal.reason);
          };
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        });
        return Response.json({ checks: [] });
      } finally {
        state.pollsInflight--;
      }
    }
    return Response.json({ code: "NOT_FOUND", message: path }, { status: 404 });
  };
  return { fetch, log, sends, decisions, polls, state };
}

/** A listener that records its calls and answers from the given functions. */
function recordingListener(
  execute: (message: Message, arg: unknown) => LocalTransactionState | Promise<LocalTransactionState>,
  check: (message: MessageExt) => LocalTransactionState | Promise<LocalTransactionState> = () => "UNKNOW",
  log?: string[],
) {
  const executed: { message: Message; arg: unknown }[] = [];
  const checked: MessageExt[] = [];
  const listener: TransactionListener = {
    executeLocalTransaction(message, arg) {
      executed.push({ message, arg });
      log?.push("execute");
      return execute(message, arg);
    },
    checkLocalTransaction(message) {
      checked.push(message);
      log?.push("check");
      return check(message);
    },
  };
  return { listener, executed, checked };
}

const started: TransactionProducer[] = [];

async function startedProducer(fetch: FetchLike, listener: TransactionListener, extra: Partial<TransactionProducerOptions> = {}): Promise<TransactionProducer> {
  const spy = vi.spyOn(Math, "random").mockReturnValue(0);
  const producer = new TransactionProducer({
    endpoint: "http://mq.test",
    fetch,
    group: GROUP,
    transactionListener: listener,
    sendChannels: false,
    checkPollWaitMs: 40,
    checkPollRetryDelayMs: 20,
    ...extra,
  });
  spy.mockRestore();
  await producer.start();
  started.push(producer);
  return producer;
}

function checkOf(transactionId: string, body: string, extra: Partial<MessageExtWire> = {}): TransactionCheck {
  return {
    transactionId,
    producerGroup: GROUP,
    messageQueue: { topic: "T", brokerName: "broker-b", queueId: 3 },
    checkTimes: 1,
    message: {
      topic: "T",
      brokerName: "broker-b",
      queueId: 3,
      queueOffset: -1,
      msgId: transactionId,
      offsetMsgId: "",
      tags: "TagA",
      keys: ["k1"],
      properties: { TRAN_MSG: "true", PGROUP: GROUP, TRANSACTION_CHECK_TIMES: "1" },
      bornTimestamp: 1_700_000_000_000,
      bornHost: "10.0.0.1",
      storeTimestamp: 1_700_000_000_005,
      reconsumeTimes: 0,
      flag: 0,
      body,
      ...extra,
    },
  };
}

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(started.splice(0).map((p) => p.shutdown()));
  vi.useRealTimers();
});

describe("TransactionProducer.sendMessageInTransaction", () => {
  it.each(["COMMIT_MESSAGE", "ROLLBACK_MESSAGE"] as const)("sends a half message, runs the local transaction, then posts %s", async (decision) => {
    const cluster = fakeDeployment();
    const rec = recordingListener(() => decision, undefined, cluster.log);
    const producer = await startedProducer(cluster.fetch, rec.listener);
    const message: Message = { topic: "T", body: "order-1", tags: "TagA", keys: "k1" };
    const arg = { orderId: 1 };
    const result = await producer.sendMessageInTransaction(message, arg);

    expect(cluster.sends.length).toBe(1);
    const half = cluster.sends[0]!;
    expect(half.body.transaction).toEqual({ producerGroup: GROUP });
    expect(half.body.messages.length).toBe(1);
    expect(half.body.messages[0]).toMatchObject({ body: "order-1", bodyEncoding: "utf8", tags: "TagA", keys: ["k1"] });
    const msgId = half.body.messages[0]!.msgId!;

    expect(rec.executed.length).toBe(1);
    expect(rec.executed[0]!.message).toBe(message);
    expect(rec.executed[0]!.arg).toBe(arg);

    expect(cluster.decisions.length).toBe(1);
    const d = cluster.decisions[0]!;
    expect({ broker: d.brokerName, topic: d.topic, queueId: d.queueId, transactionId: d.transactionId }).toEqual({
      broker: half.brokerName,
      topic: "T",
      queueId: half.queueId,
      transactionId: `tx-${msgId}`,
    });
    expect(d.body).toEqual({ producerGroup: GROUP, decision, fromTransactionCheck: false });
    expect(cluster.log.filter((e) => e !== "poll")).toEqual(["half", "execute", `decision ${decision}`]);

    expect(result.transactionId).toBe(`tx-${msgId}`);
    expect(result.localTransactionState).toBe(decision);
    expect(result.msgId).toBe(msgId);
    expect(result.sendStatus).toBe("SEND_OK");
    expect(result.messageQueue).toEqual({ topic: "T", brokerName: half.brokerName, queueId: half.queueId });
  });

  it("awaits an async local transaction before deciding", async () => {
    const cluster = fakeDeployment();
    const rec = recordingListener(async () => {
      await sleep(30);
      return "COMMIT_MESSAGE" as const;
    });
    const producer = await startedProducer(cluster.fetch, rec.listener);
    const result = await producer.sendMessageInTransaction({ topic: "T", body: "x" });
    expect(result.localTransactionState).toBe("COMMIT_MESSAGE");
    expect(cluster.decisions.map((d) => d.body.decision)).toEqual(["COMMIT_MESSAGE"]);
  });

  it("posts no decision for UNKNOW", async () => {
    const cluster = fakeDeployment();
    const rec = recordingListener(() => "UNKNOW");
    const producer = await startedProducer(cluster.fetch, rec.listener);
    const result = await producer.sendMessageInTransaction({ topic: "T", body: "x" }, "arg");
    expect(result.localTransactionState).toBe("UNKNOW");
    expect(result.transactionId).toBe(`tx-${cluster.sends[0]!.body.messages[0]!.msgId}`);
    expect(rec.executed.map((e) => e.arg)).toEqual(["arg"]);
    expect(cluster.sends.length).toBe(1);
    expect(cluster.decisions.length).toBe(0);
  });

  it.each([
    [
      "throws",
      (): LocalTransactionState => {
        throw new Error("db down");
      },
    ],
    [
      "rejects",
      async (): Promise<LocalTransactionState> => {
        throw new Error("db down");
      },
    ],
  ])("counts a listener that %s as UNKNOW and posts no decision", async (_name, execute) => {
    const cluster = fakeDeployment();
    const rec = recordingListener(execute);
    const producer = await startedProducer(cluster.fetch, rec.listener);
    const result = await producer.sendMessageInTransaction({ topic: "T", body: "x" });
    expect(result.localTransactionState).toBe("UNKNOW");
    expect(rec.executed.length).toBe(1);
    expect(cluster.decisions.length).toBe(0);
  });

  it.each([
    ["delayTimeLevel", { delayTimeLevel: 3 }],
    ["deliverTimeMs", { deliverTimeMs: Date.now() + 60_000 }],
  ])("refuses a delayed message (%s) with MESSAGE_ILLEGAL before any network call", async (_name, delay) => {
    const cluster = fakeDeployment();
    const rec = recordingListener(() => "COMMIT_MESSAGE");
    const producer = await startedProducer(cluster.fetch, rec.listener);
    expect(await codeOf(producer.sendMessageInTransaction({ topic: "T", body: "x", ...delay }))).toBe("MESSAGE_ILLEGAL");
    expect(cluster.sends.length).toBe(0);
    expect(cluster.decisions.length).toBe(0);
    expect(rec.executed.length).toBe(0);
  });

  it("accepts delayTimeLevel 0 (no delay)", async () => {
    const cluster = fakeDeployment();
    const rec = recordingListener(() => "COMMIT_MESSAGE");
    const producer = await startedProducer(cluster.fetch, rec.listener);
    expect(await codeOf(producer.sendMessageInTransaction({ topic: "T", body: "x", delayTimeLevel: 0 }))).toBe("NO_ERROR");
    expect(cluster.sends.length).toBe(1);
  });

  it("refuses before start() with BAD_REQUEST", async () => {
    const cluster = fakeDeployment();
    const rec = recordingListener(() => "COMMIT_MESSAGE");
    const producer = new TransactionProducer({
      endpoint: "http://mq.test",
      fetch: cluster.fetch,
      group: GROUP,
      transactionListener: rec.listener,
      sendChannels: false,
    });
    expect(await codeOf(producer.sendMessageInTransaction({ topic: "T", body: "x" }))).toBe("BAD_REQUEST");
    expect(cluster.sends.length + cluster.polls.length).toBe(0);
  });

  it("does not run the local transaction when the half message fails", async () => {
    const cluster = fakeDeployment({ sendAnswer: () => "VALIDATION_FAILED" });
    const rec = recordingListener(() => "COMMIT_MESSAGE");
    const producer = await startedProducer(cluster.fetch, rec.listener);
    expect(await codeOf(producer.sendMessageInTransaction({ topic: "T", body: "x" }))).toBe("VALIDATION_FAILED");
    expect(cluster.sends.length).toBe(1);
    expect(rec.executed.length).toBe(0);
    expect(cluster.decisions.length).toBe(0);
  });

  it("retries a half message only on its queue, with the same msgId", async () => {
    const cluster = fakeDeployment({ sendAnswer: (_p, n) => (n <= 2 ? "SERVICE_UNAVAILABLE" : "OK") });
    const rec = recordingListener(() => "COMMIT_MESSAGE");
    const producer = await startedProducer(cluster.fetch, rec.listener);
    const result = await producer.sendMessageInTransaction({ topic: "T", body: "x" });
    expect(cluster.sends.map((s) => `${s.brokerName}:${s.queueId}`)).toEqual(["broker-a:0", "broker-a:0", "broker-a:0"]);
    expect(new Set(cluster.sends.map((s) => s.body.messages[0]!.msgId)).size).toBe(1);
    expect(rec.executed.length).toBe(1);
    expect(cluster.decisions.map((d) => `${d.brokerName}:${d.queueId}`)).toEqual(["broker-a:0"]);
    expect(result.localTransactionState).toBe("COMMIT_MESSAGE");
  });

  it.each([0, 1, 4])("retries a half message retryTimesWhenSendFailed = %i times", async (retryTimesWhenSendFailed) => {
    const cluster = fakeDeployment({ sendAnswer: () => "SERVICE_UNAVAILABLE" });
    const rec = recordingListener(() => "COMMIT_MESSAGE");
    const producer = await startedProducer(cluster.fetch, rec.listener, { retryTimesWhenSendFailed });
    expect(await codeOf(producer.sendMessageInTransaction({ topic: "T", body: "x" }))).toBe("SERVICE_UNAVAILABLE");
    expect(cluster.sends.length).toBe(1 + retryTimesWhenSendFailed);
    expect(rec.executed.length).toBe(0);
  });

  it("resolves even when the decision cannot be delivered (the broker checks back later)", async () => {
    const cluster = fakeDeployment({ decisionAnswer: () => "SERVICE_UNAVAILABLE" });
    const rec = recordingListener(() => "ROLLBACK_MESSAGE");
    const producer = await startedProducer(cluster.fetch, rec.listener);
    const result = await producer.sendMessageInTransaction({ topic: "T", body: "x" });
    expect(result.localTransactionState).toBe("ROLLBACK_MESSAGE");
    expect(cluster.decisions.length).toBe(1);
  });
});

describe("TransactionProducer check-back loop", () => {
  it("polls its group's checks, answers a check with checkLocalTransaction and posts the decision fromTransactionCheck", async () => {
    const bytes = Uint8Array.from([0, 255, 1, 104, 105]);
    const check = checkOf("TX-1", "AP8BaGk=", { properties: { TRAN_MSG: "true", PGROUP: GROUP, TRANSACTION_CHECK_TIMES: "2" } });
    const cluster = fakeDeployment({ checkScript: [[check]] });
    const rec = recordingListener(
      () => "UNKNOW",
      () => "COMMIT_MESSAGE",
    );
    const producer = await startedProducer(cluster.fetch, rec.listener);
    await vi.waitFor(() => expect(cluster.decisions.length).toBe(1));

    expect(cluster.polls[0]).toEqual({ group: GROUP, maxWaitMs: "40" });
    expect(rec.checked.length).toBe(1);
    const ext = rec.checked[0]!;
    expect(ext.body).toBeInstanceOf(Uint8Array);
    expect([...ext.body]).toEqual([...bytes]);
    const { body: _body, ...rest } = ext;
    const { body: _wireBody, ...wireRest } = check.message;
    expect(rest).toEqual(wireRest);
    expect(ext.properties["TRANSACTION_CHECK_TIMES"]).toBe("2");

    const d = cluster.decisions[0]!;
    expect({ broker: d.brokerName, topic: d.topic, queueId: d.queueId, transactionId: d.transactionId }).toEqual({
      broker: "broker-b",
      topic: "T",
      queueId: 3,
      transactionId: "TX-1",
    });
    expect(d.body).toEqual({ producerGroup: GROUP, decision: "COMMIT_MESSAGE", fromTransactionCheck: true });
    expect(producer.checksAnswered).toBe(1);
    // Polling goes on after the check was answered.
    await vi.waitFor(() => expect(cluster.polls.length).toBeGreaterThanOrEqual(3));
    expect(rec.checked.length).toBe(1);
    expect(cluster.decisions.length).toBe(1);
    expect(cluster.state.maxPollsInflight).toBe(1);
  });

  it("answers every check of one poll; ROLLBACK is posted, UNKNOW and a throwing check are not", async () => {
    driveTimers();
    const checks = [checkOf("TX-C", "Yw=="), checkOf("TX-R", "cg=="), checkOf("TX-U", "dQ=="), checkOf("TX-T", "dA==")];
    const cluster = fakeDeployment({ checkScript: [checks] });
    const rec = recordingListener(
      () => "UNKNOW",
      (m) => {
        const text = new TextDecoder().decode(m.body);
        if (text === "c") return "COMMIT_MESSAGE";
        if (text === "r") return "ROLLBACK_MESSAGE";
        if (text === "u") return "UNKNOW";
        throw new Error("check failed");
      },
    );
    const producer = await startedProducer(cluster.fetch, rec.listener);
    await vi.waitFor(() => expect(producer.checksAnswered).toBe(4));
    await vi.advanceTimersByTimeAsync(20);
    expect(rec.checked.map((m) => m.msgId)).toEqual(["TX-C", "TX-R", "TX-U", "TX-T"]);
    expect(cluster.decisions.map((d) => [d.transactionId, d.body.decision, d.body.fromTransactionCheck]).sort()).toEqual([
      ["TX-C", "COMMIT_MESSAGE", true],
      ["TX-R", "ROLLBACK_MESSAGE", true],
    ]);
  });

  it("keeps polling after a refused decision", async () => {
    const cluster = fakeDeployment({
      checkScript: [[checkOf("TX-1", "eA==")], [checkOf("TX-2", "eA==")]],
      decisionAnswer: (d) => (d.transactionId === "TX-1" ? "TRANSACTION_NOT_FOUND" : "OK"),
    });
    const rec = recordingListener(
      () => "UNKNOW",
      () => "COMMIT_MESSAGE",
    );
    const producer = await startedProducer(cluster.fetch, rec.listener);
    await vi.waitFor(() => expect(cluster.decisions.map((d) => d.transactionId)).toEqual(["TX-1", "TX-2"]));
    expect(producer.checksAnswered).toBe(2);
  });

  it("retries a failed poll after checkPollRetryDelayMs", async () => {
    const cluster = fakeDeployment({ checkScript: ["SERVICE_UNAVAILABLE", "INTERNAL_ERROR", [checkOf("TX-1", "eA==")]] });
    const rec = recordingListener(
      () => "UNKNOW",
      () => "ROLLBACK_MESSAGE",
    );
    const t0 = Date.now();
    await startedProducer(cluster.fetch, rec.listener, { checkPollRetryDelayMs: 50 });
    await vi.waitFor(() => expect(cluster.decisions.length).toBe(1));
    // Two failures, each followed by a 50 ms pause.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(cluster.polls.length).toBeGreaterThanOrEqual(3);
    expect(cluster.decisions[0]!.body).toEqual({ producerGroup: GROUP, decision: "ROLLBACK_MESSAGE", fromTransactionCheck: true });
  });

  it("does not pile up abort listeners while polls keep failing", async () => {
    driveTimers();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on("warning", onWarning);
    try {
      const cluster = fakeDeployment({ checkScript: Array(30).fill("SERVICE_UNAVAILABLE") });
      const rec = recordingListener(() => "UNKNOW");
      const producer = await startedProducer(cluster.fetch, rec.listener, { checkPollRetryDelayMs: 1 });
      await vi.waitFor(() => expect(cluster.polls.length).toBeGreaterThan(30), { timeout: 3000 });
      await producer.shutdown();
      await vi.advanceTimersByTimeAsync(10);
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("start() twice runs one loop only", async () => {
    driveTimers();
    const cluster = fakeDeployment();
    const rec = recordingListener(() => "UNKNOW");
    const producer = await startedProducer(cluster.fetch, rec.listener);
    await producer.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.state.maxPollsInflight).toBe(1);
  });

  it("shutdown() aborts the held poll promptly and no poll follows", async () => {
    driveTimers();
    const cluster = fakeDeployment({ checkScript: [[checkOf("TX-1", "eA==")]] });
    const rec = recordingListener(
      () => "UNKNOW",
      () => "COMMIT_MESSAGE",
    );
    const producer = await startedProducer(cluster.fetch, rec.listener, { checkPollWaitMs: 10_000 });
    await vi.waitFor(() => expect(cluster.decisions.length).toBe(1));
    await vi.waitFor(() => expect(cluster.state.pollsInflight).toBe(1));
    const t0 = Date.now();
    await producer.shutdown();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(cluster.state.abortedPolls).toBe(1);
    expect(cluster.state.pollsInflight).toBe(0);
    const polls = cluster.polls.length;
    await vi.advanceTimersByTimeAsync(150);
    expect(cluster.polls.length).toBe(polls);
    expect(rec.checked.length).toBe(1);
  });

  it("no poll follows shutdown() with short long polls either", async () => {
    driveTimers();
    const cluster = fakeDeployment();
    const rec = recordingListener(() => "UNKNOW");
    const producer = await startedProducer(cluster.fetch, rec.listener, { checkPollWaitMs: 5 });
    await vi.waitFor(() => expect(cluster.polls.length).toBeGreaterThanOrEqual(3));
    await producer.shutdown();
    const polls = cluster.polls.length;
    await vi.advanceTimersByTimeAsync(100);
    expect(cluster.polls.length).toBe(polls);
  });

  it("shutdown() during the pause after a failed poll returns at once and no poll follows", async () => {
    driveTimers();
    const cluster = fakeDeployment({ checkScript: ["SERVICE_UNAVAILABLE"] });
    const rec = recordingListener(() => "UNKNOW");
    const producer = await startedProducer(cluster.fetch, rec.listener, { checkPollRetryDelayMs: 10_000 });
    await vi.waitFor(() => expect(cluster.polls.length).toBe(1));
    await vi.advanceTimersByTimeAsync(20);
    const t0 = Date.now();
    await producer.shutdown();
    expect(Date.now() - t0).toBeLessThan(1000);
    await vi.advanceTimersByTimeAsync(50);
    expect(cluster.polls.length).toBe(1);
  });

  it("shutdown() waits for a check being answered, whose decision is still posted", async () => {
    driveTimers();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cluster = fakeDeployment({ checkScript: [[checkOf("TX-1", "eA==")]] });
    const rec = recordingListener(
      () => "UNKNOW",
      async () => {
        await gate;
        return "COMMIT_MESSAGE" as const;
      },
    );
    const producer = await startedProducer(cluster.fetch, rec.listener);
    await vi.waitFor(() => expect(rec.checked.length).toBe(1));
    let done = false;
    const shutdown = producer.shutdown().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(30);
    expect(done).toBe(false);
    release();
    await shutdown;
    expect(cluster.decisions.map((d) => [d.transactionId, d.body.fromTransactionCheck])).toEqual([["TX-1", true]]);
    const polls = cluster.polls.length;
    await vi.advanceTimersByTimeAsync(60);
    expect(cluster.polls.length).toBe(polls);
  });

  it("polls again after a restart", async () => {
    const cluster = fakeDeployment();
    const rec = recordingListener(() => "UNKNOW");
    const producer = await startedProducer(cluster.fetch, rec.listener, { checkPollWaitMs: 5 });
    await vi.waitFor(() => expect(cluster.polls.length).toBeGreaterThanOrEqual(1));
    await producer.shutdown();
    const polls = cluster.polls.length;
    await producer.start();
    await vi.waitFor(() => expect(cluster.polls.length).toBeGreaterThan(polls));
    await producer.shutdown();
  });
});
