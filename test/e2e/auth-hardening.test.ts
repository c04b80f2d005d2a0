/**
 * Issue 12, items 3, 4 and the auth parts of 10, through the real server: a Worker without
 * accounts serves nobody unless it runs locally, and nobody can make the first account through
 * the API; replayed signed requests are refused after a restart; names with `%` are authorized
 * as the router reads them; unknown access keys are refused like known ones.
 */
import { describe, expect } from "vitest";
import { Admin } from "../../client/index.js";
import type { Credentials as Cred } from "../../client/credentials.js";
import { AuthHeaders, signRequest } from "../../protocol/auth/signature.js";
import { CEILING_STEP_MS } from "../../durable-objects/replay-guard/policy.js";
import { RawHttpClient } from "../fuzz/raw-http.js";
import { ROOT as ADMIN, fetchAnswer, outcome, signedCall as call, signedHeaders as signed, type Answer } from "../auth-helpers.js";
import { serverFixture, test as e2e } from "../fixture.js";
import { startServer } from "../../scripts/server.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** Everything allowed but a few groups: the shape of account a bypass would matter for. */
const NOSY: Cred = { accessKey: "nosy", secretKey: "nosy-secret-key-0001" };
const ACCOUNTS = JSON.stringify([
  { ...ADMIN, admin: true },
  { ...NOSY, defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "PUB|SUB", groupPerms: { GDeny: "DENY", "a%b%41": "DENY" } },
]);

/** "ok" for any 2xx (a create answers 201). */
const okOrCode = (a: Answer) => (a.status < 300 ? "ok" : `${a.status} ${a.code}`);

const test = e2e
  // The file's server, with accounts, for item 10.
  .override("serverOptions", { vars: { FLAREMQ_ACCOUNTS: ACCOUNTS }, credentials: ADMIN })
  // What `npm start` and the tests run (ALLOW_UNAUTHENTICATED_LOCAL from the local runner), and
  // what a deployed Worker gets from either level of wrangler.toml (no such var).
  .extend("open", { scope: "file" }, serverFixture())
  .extend("deployed", { scope: "file" }, serverFixture({ vars: { ALLOW_UNAUTHENTICATED_LOCAL: "false" } }))
  /** Raw HTTP to `open`, to send any Host header. */
  .extend("raw", { scope: "file" }, ({ open }, { onCleanup }) => {
    const url = new URL(open.url);
    const raw = new RawHttpClient(url.hostname, Number(url.port), 2);
    onCleanup(() => raw.close());
    return raw;
  });
const it = test;

describe("item 3: deploy fails closed", () => {
  it("item 3: a Worker without accounts serves nobody unless run locally with ALLOW_UNAUTHENTICATED_LOCAL, and then only loopback names", async ({
    open,
    deployed,
    raw,
  }) => {
    const sendBody = { messages: [{ body: "x", bodyEncoding: "utf8" }] };
    const probes = [
      ["GET", "/namesrv/topics", undefined],
      ["POST", "/brokers/broker-a/topics/T/queues/0/messages", sendBody],
      ["PUT", "/admin/accounts/intruder", { secretKey: "intruder-secret-0001", admin: true }],
    ] as const;
    for (const [method, path, body] of probes) {
      expect(`${method} ${path}: ${outcome(await call(deployed.url, null, method, path, { body }))}`).toBe(`${method} ${path}: 503 AUTH_NOT_CONFIGURED`);
      // A signature does not help when there is no account to check it against.
      expect(`${method} ${path}: ${outcome(await call(deployed.url, ADMIN, method, path, { body }))}`).toBe(`${method} ${path}: 503 AUTH_NOT_CONFIGURED`);
    }
    expect(outcome(await call(deployed.url, null, "GET", "/healthz"))).toBe("200");

    // The local server is open to loopback names only: a request routed to a deployed Worker
    // always carries the route's hostname.
    expect(outcome(await call(open.url, null, "GET", "/namesrv/topics"))).toBe("200");
    for (const host of ["flaremq.example.workers.dev", "mq.example.com", "127.0.0.1.example.com"]) {
      const answer = await raw.send({ method: "GET", target: "/namesrv/topics", headers: { host } });
      expect(`${host}: ${answer.status} ${(JSON.parse(answer.text) as { code: string }).code}`).toBe(`${host}: 503 AUTH_NOT_CONFIGURED`);
    }
    for (const host of ["localhost", "127.0.0.1", "[::1]"]) {
      expect(`${host}: ${(await raw.send({ method: "GET", target: "/namesrv/topics", headers: { host } })).status}`).toBe(`${host}: 200`);
    }
  });

  it("item 3: a local server bound to every address is not open, whatever Host a client sends", async () => {
    // The Worker trusts the Host header for "loopback", which a remote client of a server bound
    // to 0.0.0.0 could set: such a server runs closed, as a deployed Worker does.
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "flaremq-anyaddr-"));
    const wide = await startServer({ port: 0, host: "0.0.0.0", stateDir, skipBuild: true });
    try {
      const wideRaw = new RawHttpClient("127.0.0.1", wide.port, 1);
      const answer = await wideRaw.send({ method: "GET", target: "/namesrv/topics", headers: { host: "localhost" } });
      expect(`${answer.status} ${(JSON.parse(answer.text) as { code: string }).code}`).toBe("503 AUTH_NOT_CONFIGURED");
    } finally {
      await wide.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it("item 3: no account can be created or deleted through the API on a server without accounts, even from this machine", async ({ open }) => {
    const intruder = { secretKey: "intruder-secret-0001", admin: true };
    expect(outcome(await call(open.url, null, "PUT", "/admin/accounts/intruder", { body: intruder }))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(open.url, { accessKey: "intruder", secretKey: intruder.secretKey }, "PUT", "/admin/accounts/intruder", { body: intruder }))).toBe(
      "403 ACCESS_DENIED",
    );
    expect(outcome(await call(open.url, null, "PUT", "/admin/%61ccounts/intruder", { body: intruder }))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(open.url, null, "DELETE", "/admin/accounts/intruder"))).toBe("403 ACCESS_DENIED");
    expect((await call(open.url, null, "GET", "/admin/accounts")).body.accounts).toEqual([]);
    // Nobody was locked out: the server is as open (to this machine) as before.
    expect(outcome(await call(open.url, null, "GET", "/namesrv/topics"))).toBe("200");
  });
});

describe("item 4: replay protection across restarts", () => {
  it("item 4: a signed request replayed after a server restart is refused and stores nothing", async ({ launchServer }) => {
    const first = await launchServer({ vars: { FLAREMQ_ACCOUNTS: ACCOUNTS } });
    const stateDir = first.stateDir;
    const statusPath = "/topics/TReplay/status";
    const sendPath = "/brokers/broker-a/topics/TReplay/queues/0/messages";
    const body = JSON.stringify({ messages: [{ body: "once", bodyEncoding: "utf8" }] });
    expect(okOrCode(await call(first.url, ADMIN, "PUT", "/namesrv/topics/TReplay", { body: { queueNums: 1, brokers: ["broker-a"] } }))).toBe("ok");
    const statusHeaders = await signed(ADMIN, "GET", first.url + statusPath);
    const sendHeaders = await signed(ADMIN, "POST", first.url + sendPath, body);
    expect(outcome(await fetchAnswer(first.url + statusPath, { headers: statusHeaders }))).toBe("200");
    expect(outcome(await fetchAnswer(first.url + sendPath, { method: "POST", headers: sendHeaders, body }))).toBe("200");
    expect(outcome(await fetchAnswer(first.url + sendPath, { method: "POST", headers: sendHeaders, body }))).toBe("401 REQUEST_REPLAYED");
    await first.stop();

    // A new process: new Worker isolates and new replay guard objects, with only the storage kept.
    const second = await launchServer({ stateDir, vars: { FLAREMQ_ACCOUNTS: ACCOUNTS } });
    // The signature covers the path, not the port: the captured requests are valid on the new server.
    const replayed = await fetchAnswer(second.url + statusPath, { headers: statusHeaders });
    expect(outcome(replayed)).toBe("401 REQUEST_STALE");
    expect(replayed.headers.get("retry-after")).toBe("2");
    expect(outcome(await fetchAnswer(second.url + sendPath, { method: "POST", headers: sendHeaders, body }))).toBe("401 REQUEST_STALE");
    // A client signing right after the restart may be refused as stale once (signed within 1 s of
    // the last request accepted before it); its transport waits out Retry-After and signs again.
    const admin = new Admin({ endpoint: second.url, credentials: ADMIN });
    expect((await admin.queueStats({ topic: "TReplay", brokerName: "broker-a", queueId: 0 })).maxOffset).toBe(1);
    // A request signed after the last one accepted before the restart goes through.
    const lastDate = Number(sendHeaders[AuthHeaders.date]);
    const fresh = await signed(ADMIN, "GET", second.url + statusPath, undefined, Math.max(Date.now(), lastDate + CEILING_STEP_MS + 1));
    expect(outcome(await fetchAnswer(second.url + statusPath, { headers: fresh }))).toBe("200");
    expect(outcome(await fetchAnswer(second.url + statusPath, { headers: fresh }))).toBe("401 REQUEST_REPLAYED");
  });
});

describe("item 10: authentication edge cases", () => {
  test.beforeAll(async ({ server }) => {
    const ok = async (a: Promise<Answer>) => expect(okOrCode(await a)).toBe("ok");
    await ok(call(server.url, ADMIN, "PUT", "/namesrv/topics/TPct", { body: { queueNums: 1, brokers: ["broker-a"] } }));
    await ok(call(server.url, ADMIN, "POST", "/brokers/broker-a/topics/TPct/queues/0/messages", { body: { messages: [{ body: "x", bodyEncoding: "utf8" }] } }));
    // GDeny's retry topic, made by the admin.
    const mq = { topic: "TPct", brokerName: "broker-a", queueId: 0 };
    await ok(call(server.url, ADMIN, "POST", "/groups/GDeny/sendback", { body: { messageQueue: mq, queueOffset: 0, delayLevel: 1 } }));
  });

  it("item 10: a deny rule on a group holds however its name is %-escaped, also for names with a %", async ({ server }) => {
    // The router reads every one of these as a denied name: GDeny's retry topic, or the group
    // "a%b%41" (valid escapes decoded, invalid ones kept, %25 decoded last).
    const denied = [
      "/topics/%25RETRY%25GDeny/status",
      "/topics/%RETRY%GDeny/status",
      "/topics/%RETRY%G%44eny/status",
      "/topics/%RETRY%25GDeny/status",
      "/groups/a%25b%2541",
      "/groups/a%b%2541",
      "/groups/a%b%2541/progress",
    ];
    const actual: string[] = [];
    for (const path of denied) {
      // The admin's answer shows which name the router acted on.
      const seen = await call(server.url, ADMIN, "GET", path);
      expect(`${path}: ${outcome(seen)}`).toBe(`${path}: 200`);
      actual.push(`${path}: ${outcome(await call(server.url, NOSY, "GET", path))}`);
    }
    expect(actual).toEqual(denied.map((p) => `${p}: 403 ACCESS_DENIED`));
    expect((await call(server.url, ADMIN, "GET", "/topics/%RETRY%25GDeny/status")).body.topic).toBe("%RETRY%GDeny");
    expect((await call(server.url, ADMIN, "GET", "/groups/a%b%2541")).body.group).toBe("a%b%41");
    // Names that are not denied stay allowed.
    expect(outcome(await call(server.url, NOSY, "GET", "/groups/a%25bB"))).toBe("200");
    expect(outcome(await call(server.url, NOSY, "GET", "/topics/TPct/status"))).toBe("200");
  });

  it("item 10: an unknown access key is refused exactly like a known one, whatever else is wrong", async ({ server }) => {
    const url = server.url + "/topics/TPct/status";
    const known = NOSY;
    const unknown: Cred = { accessKey: "nobody-here", secretKey: NOSY.secretKey };
    const cases: Record<string, (cred: Cred) => Promise<Record<string, string>>> = {
      "date too old": (cred) => signRequest(cred, { method: "GET", url }, Date.now() - 10 * 60_000),
      "date in the future": (cred) => signRequest(cred, { method: "GET", url }, Date.now() + 10 * 60_000),
      "date not a number": async (cred) => ({ ...(await signRequest(cred, { method: "GET", url })), [AuthHeaders.date]: "yesterday" }),
      "nonce too short": async (cred) => ({ ...(await signRequest(cred, { method: "GET", url })), [AuthHeaders.nonce]: "short" }),
      "digest of another body": async (cred) => ({ ...(await signRequest(cred, { method: "GET", url, body: "other" })) }),
      "bad signature": async (cred) => ({ ...(await signRequest({ ...cred, secretKey: "wrong-secret-key-0001" }, { method: "GET", url })) }),
    };
    const want: Record<string, string> = {
      "date too old": "401 REQUEST_EXPIRED",
      "date in the future": "401 REQUEST_EXPIRED",
      "date not a number": "401 REQUEST_EXPIRED",
      "nonce too short": "401 SIGNATURE_INVALID",
      "digest of another body": "401 SIGNATURE_INVALID",
      "bad signature": "401 SIGNATURE_INVALID",
    };
    const ofKnown: string[] = [];
    const ofUnknown: string[] = [];
    for (const [name, headersFor] of Object.entries(cases)) {
      const a = await fetchAnswer(url, { headers: await headersFor(known) });
      const b = await fetchAnswer(url, { headers: await headersFor(unknown) });
      ofKnown.push(`${name}: ${outcome(a)} ${String(a.body.message)}`);
      ofUnknown.push(`${name}: ${outcome(b)} ${String(b.body.message)}`);
      expect(`${name}: ${outcome(a)}`).toBe(`${name}: ${want[name]}`);
    }
    // Same status, code and message: nothing tells the two apart.
    expect(ofUnknown).toEqual(ofKnown);
  });
});
