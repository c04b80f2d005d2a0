import { describe, expect, it } from "vitest";
import { isMQError, type MQError } from "../protocol/errors.js";
import { pathSegment, Transport, type FetchLike } from "./transport.js";
import { encodeFramed, FRAMED_MEDIA_TYPE } from "../protocol/framed-messages.js";

interface Seen {
  url: string;
  init: RequestInit;
}

function recorder(answer: (url: string, init: RequestInit) => Promise<Response> | Response) {
  const seen: Seen[] = [];
  const fetch: FetchLike = async (url, init) => {
    seen.push({ url, init });
    return answer(url, init);
  };
  return { seen, fetch };
}

/** A fetch that never answers; it rejects with the signal's reason once the signal aborts. */
const hangingFetch: FetchLike = (_url, init) =>
  new Promise<Response>((_resolve, reject) => {
    const signal = init.signal!;
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

/** A fetch that answers 200 at once but whose body never finishes until the signal aborts. */
const stallingBodyFetch: FetchLike = async (_url, init) => {
  const signal = init.signal!;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"partial":'));
      signal.addEventListener("abort", () => controller.error(signal.reason), { once: true });
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
};

async function failure(p: Promise<unknown>): Promise<MQError> {
  try {
    await p;
  } catch (e) {
    if (isMQError(e)) return e;
    throw new Error(`expected an MQError, got ${String(e)}`);
  }
  throw new Error("expected a failure, got success");
}

describe("Transport construction", () => {
  it.each(["localhost:8787", "ftp://host", "", "//host", "HTTP:/host"])("refuses endpoint %j with BAD_REQUEST", (endpoint) => {
    let code = "NO_ERROR";
    try {
      new Transport({ endpoint, fetch: hangingFetch });
    } catch (e) {
      code = isMQError(e) ? e.code : "NOT_MQERROR";
    }
    expect(code).toBe("BAD_REQUEST");
  });

  it("strips trailing slashes from the endpoint", async () => {
    const r = recorder(() => Response.json({ ok: 1 }));
    const t = new Transport({ endpoint: "https://mq.example.com/base///", fetch: r.fetch });
    expect(t.endpoint).toBe("https://mq.example.com/base");
    await t.request("/namesrv/topics");
    expect(r.seen[0]!.url).toBe("https://mq.example.com/base/namesrv/topics");
  });
});

describe("Transport.request", () => {
  it("GETs with query parameters, omitting undefined ones, and returns the JSON body", async () => {
    const r = recorder(() => Response.json({ answer: 42, list: [1, 2] }));
    const t = new Transport({ endpoint: "http://127.0.0.1:8787", fetch: r.fetch, credentials: null });
    const body = await t.request<{ answer: number; list: number[] }>("/p", { query: { a: 1, b: "x y", c: undefined } });
    expect(body).toEqual({ answer: 42, list: [1, 2] });
    expect(r.seen.length).toBe(1);
    const url = new URL(r.seen[0]!.url);
    expect(url.pathname).toBe("/p");
    expect([...url.searchParams.entries()]).toEqual([
      ["a", "1"],
      ["b", "x y"],
    ]);
    expect(r.seen[0]!.init.method).toBe("GET");
    expect(r.seen[0]!.init.body).toBeUndefined();
    expect(r.seen[0]!.init.headers).toEqual({ "accept-encoding": "identity" });
    expect(r.seen[0]!.init.signal!.aborted).toBe(false);
  });

  it("asks for compressed answers only with compressedAnswers", async () => {
    const r = recorder(() => Response.json({}));
    await new Transport({ endpoint: "http://h", fetch: r.fetch, compressedAnswers: true }).request("/x");
    expect(r.seen[0]!.init.headers).toBeUndefined(); // fetch then offers what it decodes (gzip, br)
  });

  it("sends a JSON body with its content type", async () => {
    const r = recorder(() => Response.json({}));
    const t = new Transport({ endpoint: "http://h", fetch: r.fetch });
    await t.request("/x", { method: "POST", body: { messages: [{ body: "aGk=" }] } });
    expect(r.seen[0]!.init.method).toBe("POST");
    expect(r.seen[0]!.init.body).toBe('{"messages":[{"body":"aGk="}]}');
    expect(r.seen[0]!.init.headers).toEqual({ "accept-encoding": "identity", "content-type": "application/json" });
  });

  it.each([
    [404, "TOPIC_NOT_EXIST"],
    [400, "VALIDATION_FAILED"],
    [403, "NO_PERMISSION"],
    [413, "MESSAGE_BODY_TOO_LARGE"],
    [429, "TOO_MANY_WAITERS"],
    [500, "INTERNAL_ERROR"],
    [503, "SERVICE_UNAVAILABLE"],
  ] as const)("turns a %i server error JSON into an MQError with code %s", async (status, code) => {
    const r = recorder(() => Response.json({ code, message: "from server", requestId: "req-1" }, { status }));
    const e = await failure(new Transport({ endpoint: "http://h", fetch: r.fetch }).request("/x"));
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.message).toBe("from server");
    expect(e.requestId).toBe("req-1");
  });

  it("maps an error answer that is not JSON by its status", async () => {
    const html = (status: number) => () => new Response("<html>oops</html>", { status, headers: { "content-type": "text/html" } });
    expect((await failure(new Transport({ endpoint: "http://h", fetch: recorder(html(502)).fetch }).request("/x"))).code).toBe("SERVICE_UNAVAILABLE");
    expect((await failure(new Transport({ endpoint: "http://h", fetch: recorder(html(404)).fetch }).request("/x"))).code).toBe("NOT_FOUND");
    expect((await failure(new Transport({ endpoint: "http://h", fetch: recorder(html(400)).fetch }).request("/x"))).code).toBe("BAD_REQUEST");
  });

  it("treats a successful answer that is not JSON as NETWORK_ERROR", async () => {
    const r = recorder(() => new Response("not json", { status: 200 }));
    const e = await failure(new Transport({ endpoint: "http://h", fetch: r.fetch }).request("/x"));
    expect(e.code).toBe("NETWORK_ERROR");
  });

  it("turns a network failure into NETWORK_ERROR, retriable, with the cause kept", async () => {
    const cause = new TypeError("fetch failed");
    const fetch: FetchLike = async () => {
      throw cause;
    };
    const e = await failure(new Transport({ endpoint: "http://h", fetch }).request("/x"));
    expect(e.code).toBe("NETWORK_ERROR");
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(cause);
  });

  it("turns the client timeout into TIMEOUT", async () => {
    const started = Date.now();
    const e = await failure(new Transport({ endpoint: "http://h", fetch: hangingFetch, requestTimeoutMs: 50 }).request("/x"));
    expect(e.code).toBe("TIMEOUT");
    expect(e.retriable).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it("lets a call's timeoutMs override the client's", async () => {
    const t = new Transport({ endpoint: "http://h", fetch: hangingFetch, requestTimeoutMs: 60_000 });
    const e = await failure(t.request("/x", { timeoutMs: 30 }));
    expect(e.code).toBe("TIMEOUT");
  });

  it("turns a body that does not finish in time into TIMEOUT", async () => {
    const t = new Transport({ endpoint: "http://h", fetch: stallingBodyFetch, requestTimeoutMs: 50 });
    expect((await failure(t.request("/x"))).code).toBe("TIMEOUT");
  });

  it("turns a caller abort into ABORTED, not retriable", async () => {
    const controller = new AbortController();
    const t = new Transport({ endpoint: "http://h", fetch: hangingFetch, requestTimeoutMs: 60_000 });
    const p = t.request("/x", { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    const e = await failure(p);
    expect(e.code).toBe("ABORTED");
    expect(e.retriable).toBe(false);
  });

  it("turns an already aborted signal into ABORTED", async () => {
    const t = new Transport({ endpoint: "http://h", fetch: hangingFetch });
    expect((await failure(t.request("/x", { signal: AbortSignal.abort() }))).code).toBe("ABORTED");
  });

  it("turns a caller abort during the body into ABORTED", async () => {
    const controller = new AbortController();
    const t = new Transport({ endpoint: "http://h", fetch: stallingBodyFetch, requestTimeoutMs: 60_000 });
    const p = t.request("/x", { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    expect((await failure(p)).code).toBe("ABORTED");
  });

  it("reports ABORTED when the caller aborts even if the timeout also passed", async () => {
    const t = new Transport({ endpoint: "http://h", fetch: hangingFetch, requestTimeoutMs: 20 });
    const controller = new AbortController();
    const p = t.request("/x", { signal: controller.signal });
    controller.abort();
    expect((await failure(p)).code).toBe("ABORTED");
  });

  it("passes a caller signal that is not aborted through to success", async () => {
    const r = recorder(() => Response.json({ ok: true }));
    const t = new Transport({ endpoint: "http://h", fetch: r.fetch });
    expect(await t.request("/x", { signal: new AbortController().signal })).toEqual({ ok: true });
  });
});

describe("pathSegment", () => {
  it("percent-encodes a value for one path segment", () => {
    expect(pathSegment("a/b c")).toBe("a%2Fb%20c");
    expect(pathSegment("%RETRY%g")).toBe("%25RETRY%25g");
    expect(pathSegment(5)).toBe("5");
    expect(pathSegment("TopicTest")).toBe("TopicTest");
  });
});

describe("Transport endpoint list", () => {
  const ok = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });

  it("moves on when an endpoint cannot be reached, and stays on the one that answered", async () => {
    const { seen, fetch } = recorder((url) => {
      if (url.startsWith("http://a")) throw new TypeError("connect ECONNREFUSED");
      return ok({ from: new URL(url).host });
    });
    const t = new Transport({ endpoint: ["http://a", "http://b/", "http://c"], fetch, credentials: null });
    expect(t.endpoints).toEqual(["http://a", "http://b", "http://c"]);
    expect(await t.request("/x")).toEqual({ from: "b" });
    expect(t.endpoint).toBe("http://b");
    expect(await t.request("/y", { method: "POST", body: {} })).toEqual({ from: "b" });
    expect(seen.map((s) => new URL(s.url).host)).toEqual(["a", "b", "b"]);
  });

  it("fails a read over on a timeout or a bare 503, but not a write, and never on a coded refusal", async () => {
    const { seen, fetch } = recorder((url, init) => {
      const host = new URL(url).host;
      if (host === "a") return new Response("bad gateway", { status: 503 });
      if (init.method === "GET" && url.endsWith("/coded")) return new Response(JSON.stringify({ code: "TOPIC_NOT_EXIST", message: "no" }), { status: 404 });
      return ok({ from: host });
    });
    const t = new Transport({ endpoint: ["http://a", "http://b"], fetch, credentials: null });
    expect((await failure(t.request("/w", { method: "POST", body: {} }))).code).toBe("SERVICE_UNAVAILABLE");
    expect(await t.request("/r")).toEqual({ from: "b" });
    expect((await failure(t.request("/coded"))).code).toBe("TOPIC_NOT_EXIST");
    expect(seen.map((s) => `${s.init.method} ${new URL(s.url).host}${new URL(s.url).pathname}`)).toEqual(["POST a/w", "GET a/r", "GET b/r", "GET b/coded"]);
  });

  it("reports the last failure when every endpoint fails", async () => {
    const { fetch } = recorder(() => {
      throw new TypeError("down");
    });
    const t = new Transport({ endpoint: ["http://a", "http://b"], fetch, credentials: null });
    const e = await failure(t.request("/x"));
    expect(e.code).toBe("NETWORK_ERROR");
    expect(e.message).toContain("http://b");
  });

  it("refuses an empty list", () => {
    expect(() => new Transport({ endpoint: [], fetch: hangingFetch })).toThrow("at least one");
  });
});

describe("Transport and the replay guard", () => {
  const credentials = { accessKey: "app", secretKey: "app-secret-key-00001" };
  const stale = (retryAfter: string) =>
    Response.json({ code: "REQUEST_STALE", message: "sign again" }, { status: 401, headers: { "retry-after": retryAfter } });
  const nonceOf = (s: Seen) => (s.init.headers as Record<string, string>)["x-mq-nonce"];

  it("item 4: signs a call again after Retry-After when the server refused it as REQUEST_STALE, once", async () => {
    let answers = [stale("0"), Response.json({ ok: true })];
    const r = recorder(() => answers.shift()!);
    const t = new Transport({ endpoint: "http://h", fetch: r.fetch, credentials });
    expect(await t.request("/x", { method: "POST", body: { a: 1 } })).toEqual({ ok: true });
    expect(r.seen.length).toBe(2);
    expect(nonceOf(r.seen[1]!)).not.toBe(nonceOf(r.seen[0]!));
    expect(r.seen[1]!.init.body).toBe(r.seen[0]!.init.body);

    // Stale twice: the second refusal is the caller's.
    answers = [stale("0"), stale("0"), Response.json({ ok: true })];
    r.seen.length = 0;
    expect((await failure(t.request("/x"))).code).toBe("REQUEST_STALE");
    expect(r.seen.length).toBe(2);
  });

  it("item 4: does not wait out a Retry-After longer than 5 s, nor a refusal without one", async () => {
    for (const answer of [() => stale("6"), () => Response.json({ code: "REQUEST_STALE", message: "m" }, { status: 401 })]) {
      const r = recorder(answer);
      const e = await failure(new Transport({ endpoint: "http://h", fetch: r.fetch, credentials }).request("/x"));
      expect(e.code).toBe("REQUEST_STALE");
      expect(r.seen.length).toBe(1);
    }
  });
});

describe("Transport: framed answers", () => {
  const framedResponse = (bytes: Uint8Array<ArrayBuffer>, status = 200) => new Response(bytes, { status, headers: { "content-type": FRAMED_MEDIA_TYPE } });

  it("asks for them only when told, and reads each body as bytes", async () => {
    const frame = encodeFramed({ messages: [{ body: 3 }, { body: 0 }] }, [new Uint8Array([1, 2, 3]), new Uint8Array()]);
    const { seen, fetch } = recorder(() => framedResponse(frame));
    const t = new Transport({ endpoint: "http://x", fetch, credentials: null });
    const answer = await t.request<{ messages: { body: Uint8Array }[] }>("/pull", { framed: true });
    expect(answer.messages.map((m) => Array.from(m.body))).toEqual([[1, 2, 3], []]);
    expect(new Headers(seen[0]!.init.headers).get("accept")).toBe(`${FRAMED_MEDIA_TYPE}, application/json`);
    await t.request("/other").catch(() => undefined);
    expect(new Headers(seen[1]!.init.headers).get("accept")).toBeNull();
    // With compressed answers the framed type is not asked for: the edge would not compress it.
    await new Transport({ endpoint: "http://x", fetch, credentials: null, compressedAnswers: true }).request("/pull", { framed: true }).catch(() => undefined);
    expect(new Headers(seen[2]!.init.headers).get("accept")).toBeNull();
  });

  it("reads a JSON answer to a framed request as JSON, and a refusal as the error it is", async () => {
    const json = recorder(() => Response.json({ messages: [{ body: "AQID" }] }));
    expect(await new Transport({ endpoint: "http://x", fetch: json.fetch, credentials: null }).request("/pull", { framed: true })).toEqual({
      messages: [{ body: "AQID" }],
    });
    const refused = recorder(() => Response.json({ code: "OFFSET_ILLEGAL", message: "bad offset" }, { status: 400 }));
    const e = await failure(new Transport({ endpoint: "http://x", fetch: refused.fetch, credentials: null }).request("/pull", { framed: true }));
    expect(e.code).toBe("OFFSET_ILLEGAL");
  });

  it("fails a malformed framed answer with NETWORK_ERROR", async () => {
    const { fetch } = recorder(() => framedResponse(new Uint8Array([0, 0, 0, 9, 123])));
    const e = await failure(new Transport({ endpoint: "http://x", fetch, credentials: null }).request("/pull", { framed: true }));
    expect(e.code).toBe("NETWORK_ERROR");
    expect(e.message).toMatch(/framed answer is malformed/);
  });
});
