/**
 * Authentication and authorization end to end: a real server with accounts from
 * FLAREMQ_ACCOUNTS, raw signed HTTP for the permission matrix and the 401 cases, the OpenAPI
 * route list called unsigned, the accounts API, a Worker without accounts, the client classes and the
 * dashboard session (with Chromium for the sign-in page).
 */
import { describe, expect } from "vitest";
import { Admin, Producer, PullConsumer, bodyText } from "../../client/index.js";
import type { Credentials as Cred } from "../../client/credentials.js";
import { AuthHeaders, deriveSigningKey, sha256Hex, signRequest } from "../../protocol/auth/signature.js";
import type { Perm } from "../../protocol/auth/permissions.js";
import { APP, OPEN, ROOT, fetchAnswer, outcome, signedCall, type Answer } from "../auth-helpers.js";
import { launchChromium } from "../browser.js";
import { test, it } from "../fixture.js";
import { codeOf } from "../helpers.js";

/** Signs only the 4-minutes-late request below: no newer request of its key, so no replay floor above it. */
const LATE: Cred = { accessKey: "late", secretKey: "late-secret-key-0001" };
const ROLES = { root: ROOT, app: APP, open: OPEN } as const;
type Role = keyof typeof ROLES;

const APP_TOPIC_PERMS: Record<string, Perm> = { TPub: "PUB", TSub: "SUB", TBoth: "PUB|SUB", TDeny: "DENY" };
const APP_GROUP_PERMS: Record<string, Perm> = { GSub: "SUB", GPub: "PUB", GDeny: "DENY" };
const ACCOUNTS = [
  { ...ROOT, admin: true },
  { ...APP, topicPerms: APP_TOPIC_PERMS, groupPerms: APP_GROUP_PERMS }, // defaults: DENY
  { ...OPEN, defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "PUB|SUB" },
  { ...LATE, defaultTopicPerm: "SUB" },
];
const TOPICS = ["TPub", "TSub", "TBoth", "TDeny", "TOther"] as const;
const GROUPS = ["GSub", "GDeny", "GOther"] as const;

/** What each role holds, as configured above. */
function topicPerm(role: Role, topic: string): Perm {
  if (role !== "app") return "PUB|SUB";
  return APP_TOPIC_PERMS[topic] ?? "DENY";
}
function groupPerm(role: Role, group: string): Perm {
  if (role !== "app") return "PUB|SUB";
  return APP_GROUP_PERMS[group] ?? "DENY";
}

const enc = encodeURIComponent;
const Q0 = (topic: string) => `/brokers/broker-a/topics/${enc(topic)}/queues/0`;

let offsetMsgIdOfTBoth = "";

async function ok(a: Promise<Answer>, what: string): Promise<Answer> {
  const answer = await a;
  if (answer.status >= 300) throw new Error(`${what}: ${answer.status} ${answer.text}`);
  return answer;
}

test.override("serverOptions", { vars: { FLAREMQ_ACCOUNTS: JSON.stringify(ACCOUNTS) }, credentials: ROOT });

test.beforeAll(async ({ call }) => {
  for (const topic of TOPICS) {
    await ok(call(ROOT, "PUT", `/namesrv/topics/${topic}`, { body: { queueNums: 1, brokers: ["broker-a"] } }), `create ${topic}`);
    const sent = await ok(
      call(ROOT, "POST", `${Q0(topic)}/messages`, { body: { messages: [{ body: `first of ${topic}`, bodyEncoding: "utf8", keys: [`k-${topic}`] }] } }),
      `send to ${topic}`,
    );
    if (topic === "TBoth") offsetMsgIdOfTBoth = (sent.body as { offsetMsgId: string }).offsetMsgId;
  }
  // Retry and dead-letter topics of GSub and GDeny, made by the admin.
  const mq = { topic: "TBoth", brokerName: "broker-a", queueId: 0 };
  await ok(call(ROOT, "POST", "/groups/GSub/sendback", { body: { messageQueue: mq, queueOffset: 0, delayLevel: -1 } }), "GSub DLQ");
  await ok(call(ROOT, "POST", "/groups/GSub/sendback", { body: { messageQueue: mq, queueOffset: 0, delayLevel: 1 } }), "GSub retry");
  await ok(call(ROOT, "POST", "/groups/GDeny/sendback", { body: { messageQueue: mq, queueOffset: 0, delayLevel: -1 } }), "GDeny DLQ");
  await ok(call(ROOT, "POST", "/groups/GDeny/sendback", { body: { messageQueue: mq, queueOffset: 0, delayLevel: 1 } }), "GDeny retry");
});

describe("permission matrix", () => {
  it("topic operations: send needs PUB; pull, status and query by key need SUB", async ({ call }) => {
    const ops: Record<string, { needs: "PUB" | "SUB"; run: (cred: Cred, topic: string) => Promise<Answer> }> = {
      send: {
        needs: "PUB",
        run: (cred, t) =>
          call(cred, "POST", `${Q0(t)}/messages`, { body: { messages: [{ body: `by ${cred.accessKey}`, bodyEncoding: "utf8", keys: [`k-${t}`] }] } }),
      },
      // The multi-queue send (auto-batching) names its topic in the path: the same PUB check.
      sendMulti: {
        needs: "PUB",
        run: (cred, t) =>
          call(cred, "POST", `/topics/${t}/messages`, {
            body: { queues: [{ brokerName: "broker-a", queueId: 0, messages: [{ body: `multi by ${cred.accessKey}`, bodyEncoding: "utf8" }] }] },
          }),
      },
      pull: { needs: "SUB", run: (cred, t) => call(cred, "GET", `${Q0(t)}/messages?offset=0&maxWaitMs=0`) },
      message: { needs: "SUB", run: (cred, t) => call(cred, "GET", `${Q0(t)}/messages/0`) },
      stats: { needs: "SUB", run: (cred, t) => call(cred, "GET", `${Q0(t)}/stats`) },
      status: { needs: "SUB", run: (cred, t) => call(cred, "GET", `/topics/${t}/status`) },
      queryByKey: { needs: "SUB", run: (cred, t) => call(cred, "GET", `/topics/${t}/messages?key=k-${t}`) },
    };
    const actual: string[] = [];
    const expected: string[] = [];
    await Promise.all(
      (Object.keys(ROLES) as Role[]).map(async (role) => {
        for (const topic of TOPICS) {
          for (const [name, op] of Object.entries(ops)) {
            const perm = topicPerm(role, topic);
            const allowed = perm === "PUB|SUB" || perm === op.needs;
            const answer = await op.run(ROLES[role], topic);
            actual.push(`${role} ${name} ${topic} (${perm}): ${outcome(answer)}`);
            expected.push(`${role} ${name} ${topic} (${perm}): ${allowed ? "200" : "403 ACCESS_DENIED"}`);
            if (allowed && name === "queryByKey") expect((answer.body as { messages: unknown[] }).messages.length).toBeGreaterThan(0);
          }
        }
      }),
    );
    expect(actual.sort()).toEqual(expected.sort());
    // The denied sends stored nothing: TDeny holds the admin's and open's messages only (the
    // first one, then one per send route each).
    const status = await call(ROOT, "GET", `${Q0("TDeny")}/stats`);
    expect((status.body as { maxOffset: number }).maxOffset).toBe(5);
  });

  it("group operations need SUB on the group", async ({ call }) => {
    const heartbeat = (clientId: string) => ({
      clientId,
      messageModel: "CLUSTERING",
      subscriptions: [{ topic: "TBoth", expressionType: "TAG", expression: "*" }],
      heartbeatIntervalMs: 10_000,
      sessionTimeoutMs: 30_000,
    });
    const ops: [string, (cred: Cred, group: string) => Promise<Answer>][] = [
      ["heartbeat", (cred, g) => call(cred, "POST", `/groups/${g}/heartbeat`, { body: heartbeat(`${cred.accessKey}-c1`) })],
      ["info", (cred, g) => call(cred, "GET", `/groups/${g}`)],
      ["commitOffset", (cred, g) => call(cred, "PUT", `${Q0("TBoth")}/groups/${g}/offset`, { body: { offset: 1 } })],
      ["fetchOffset", (cred, g) => call(cred, "GET", `${Q0("TBoth")}/groups/${g}/offset`)],
      ["progress", (cred, g) => call(cred, "GET", `/groups/${g}/progress`)],
      ["dlq", (cred, g) => call(cred, "GET", `/groups/${g}/dlq`)],
      ["leave", (cred, g) => call(cred, "DELETE", `/groups/${g}/members/${cred.accessKey}-c1`)],
    ];
    const actual: string[] = [];
    const expected: string[] = [];
    await Promise.all(
      (Object.keys(ROLES) as Role[]).flatMap((role) =>
        GROUPS.map(async (group) => {
          const perm = groupPerm(role, group);
          const allowed = perm === "SUB" || perm === "PUB|SUB";
          for (const [name, run] of ops) {
            // GOther has no dead-letter queue: an allowed list is a 2xx all the same (empty).
            const answer = await run(ROLES[role], group);
            actual.push(`${role} ${name} ${group} (${perm}): ${outcome(answer)}`);
            expected.push(`${role} ${name} ${group} (${perm}): ${allowed ? "200" : "403 ACCESS_DENIED"}`);
          }
        }),
      ),
    );
    expect(actual.sort()).toEqual(expected.sort());
  });

  it("retry and dead-letter topics take the permission of their group", async ({ call }) => {
    const cases: [string, string][] = [
      [`${Q0("%DLQ%GSub")}/messages?offset=0&maxWaitMs=0`, "200"],
      [`/topics/${enc("%DLQ%GSub")}/status`, "200"],
      [`/topics/${enc("%RETRY%GSub")}/status`, "200"],
      [`${Q0("%DLQ%GDeny")}/messages?offset=0&maxWaitMs=0`, "403 ACCESS_DENIED"],
      [`/topics/${enc("%DLQ%GDeny")}/status`, "403 ACCESS_DENIED"],
      [`/topics/${enc("%RETRY%GDeny")}/status`, "403 ACCESS_DENIED"],
      // Unlisted group: the default group permission (DENY), for "app".
      [`/topics/${enc("%RETRY%GOther")}/status`, "403 ACCESS_DENIED"],
    ];
    const actual = await Promise.all(cases.map(async ([p]) => `${p}: ${outcome(await call(APP, "GET", p))}`));
    expect(actual).toEqual(cases.map(([p, o]) => `${p}: ${o}`));
    const dlq = await call(APP, "GET", `${Q0("%DLQ%GSub")}/messages?offset=0&maxWaitMs=0`);
    expect((dlq.body as { messages: unknown[] }).messages).toHaveLength(1);
  });

  it("send-back needs SUB on the topic the message is copied from, not only on the group", async ({ call }) => {
    const back = (topic: string) =>
      call(APP, "POST", "/groups/GSub/sendback", { body: { messageQueue: { topic, brokerName: "broker-a", queueId: 0 }, queueOffset: 0, delayLevel: -1 } });
    // Otherwise a SUB on GSub would copy TDeny's message into GSub's DLQ and read it there.
    expect(outcome(await back("TDeny"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await back("TPub"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await back("TSub"))).toBe("200");
    expect(outcome(await back("%DLQ%GSub"))).toBe("200"); // the group's own topics: its group permission
    const dlq = await call(APP, "GET", "/groups/GSub/dlq");
    expect(dlq.text).not.toContain("first of TDeny");
    expect(dlq.text).not.toContain("first of TPub");
  });

  it("admin operations are refused to every non-admin account, whatever its permissions", async ({ call }) => {
    const ops: [string, (cred: Cred, role: Role) => Promise<Answer>, number][] = [
      ["createTopic", (cred, role) => call(cred, "POST", "/namesrv/topics", { body: { topic: `Made_${role}`, queueNums: 1 } }), 201],
      ["updateTopic", (cred) => call(cred, "PUT", "/namesrv/topics/TBoth", { body: { queueNums: 1, brokers: ["broker-a"] } }), 200],
      ["deleteTopic", (cred, role) => call(cred, "DELETE", `/namesrv/topics/Made_${role}`), 200],
      ["resetOffset", (cred) => call(cred, "POST", "/groups/GSub/reset-offset", { body: { topic: "TBoth", timestamp: 0 } }), 200],
      ["dlqResend", (cred) => call(cred, "POST", "/groups/GOther/dlq/resend", { body: { all: true } }), 200],
      ["transactions", (cred) => call(cred, "GET", `${Q0("TBoth")}/transactions`), 200],
      ["viewMessage", (cred) => call(cred, "GET", `/messages/${enc(offsetMsgIdOfTBoth)}`), 200],
      ["webhook", (cred) => call(cred, "PUT", "/producers/pg/webhook", { body: { url: "http://127.0.0.1:9/hook" } }), 200],
      ["metrics", (cred) => call(cred, "GET", "/metrics"), 200],
      ["listAccounts", (cred) => call(cred, "GET", "/admin/accounts"), 200],
      ["putAccount", (cred, role) => call(cred, "PUT", `/admin/accounts/made-by-${role}`, { body: { secretKey: "made-secret-key-0001" } }), 200],
      ["deleteAccount", (cred, role) => call(cred, "DELETE", `/admin/accounts/made-by-${role}`), 200],
    ];
    const actual: string[] = [];
    const expected: string[] = [];
    for (const role of ["app", "open", "root"] as Role[]) {
      for (const [name, run, success] of ops) {
        actual.push(`${role} ${name}: ${outcome(await run(ROLES[role], role))}`);
        expected.push(`${role} ${name}: ${role === "root" ? success : "403 ACCESS_DENIED"}`);
      }
    }
    expect(actual).toEqual(expected);
  });

  it("route reads need only a valid account", async ({ call }) => {
    // (Producer-group check polls and status need PUB on the producer group: they carry messages.)
    const paths = ["/namesrv/topics", "/namesrv/topics/TDeny", "/namesrv/topics/TDeny/route", "/namesrv/brokers", "/namesrv/groups", "/openapi.json"];
    const actual = await Promise.all(
      (Object.keys(ROLES) as Role[]).flatMap((role) => paths.map(async (p) => `${role} ${p}: ${outcome(await call(ROLES[role], "GET", p))}`)),
    );
    expect(actual).toEqual((Object.keys(ROLES) as Role[]).flatMap((role) => paths.map((p) => `${role} ${p}: 200`)));
  });
});

describe("a refusal names the missing right", () => {
  it("ACCESS_DENIED says which permission on which topic or group the account lacks, not the route", async ({ call }) => {
    const cases: [string, Promise<Answer>][] = [
      [`account "app" lacks PUB on topic "TSub"`, call(APP, "POST", `${Q0("TSub")}/messages`, { body: { messages: [{ body: "eA==" }] } })],
      [`account "app" lacks SUB on topic "TPub"`, call(APP, "GET", `${Q0("TPub")}/messages?offset=0&maxWaitMs=0`)],
      [`account "app" lacks SUB on topic "TOther"`, call(APP, "GET", `/topics/TOther/status`)],
      [`account "app" lacks SUB on group "GDeny" (the group of topic "%DLQ%GDeny")`, call(APP, "GET", `/topics/${enc("%DLQ%GDeny")}/status`)],
      [`account "app" lacks SUB on group "GDeny"`, call(APP, "GET", "/groups/GDeny/progress?topic=TSub")],
      [`account "app" lacks PUB on group "GSub"`, call(APP, "GET", "/producers/GSub/checks?maxWaitMs=0")],
      [`account "app" lacks admin rights`, call(APP, "GET", "/admin/accounts")],
      [`account "open" lacks admin rights`, call(OPEN, "GET", "/metrics")],
    ];
    const actual = await Promise.all(cases.map(async ([, answer]) => `${outcome(await answer)}: ${String((await answer).body.message)}`));
    expect(actual).toEqual(cases.map(([message]) => `403 ACCESS_DENIED: ${message}`));
  });
});

describe("producer groups and topic reads through a group", () => {
  it("hands check-backs only to accounts with PUB on the producer group (item 2), and refuses subscribing to or viewing progress of denied topics", async ({
    call,
  }) => {
    expect(outcome(await call(ROLES.app, "GET", "/producers/GPub/checks?maxWaitMs=0"))).toBe("200");
    // SUB is a consumer group's right, not a producer group's (test/e2e/auth-transactions.test.ts has the whole matrix).
    expect(outcome(await call(ROLES.app, "GET", "/producers/GSub/checks?maxWaitMs=0"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(ROLES.app, "GET", "/producers/GDeny/checks?maxWaitMs=0"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(ROLES.app, "GET", "/groups/GSub/progress?topic=TDeny"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(ROLES.app, "GET", "/groups/GSub/progress?topic=TSub"))).toBe("200");
    const heartbeat = (topic: string) => ({
      clientId: "hb-1",
      messageModel: "CLUSTERING",
      subscriptions: [{ topic, expressionType: "TAG", expression: "*" }],
      heartbeatIntervalMs: 1000,
      sessionTimeoutMs: 3000,
    });
    expect(outcome(await call(ROLES.app, "POST", "/groups/GSub/heartbeat", { body: heartbeat("TDeny") }))).toBe("403 ACCESS_DENIED");
  });
});

describe("push subscriptions need SUB on the group and on the topic", () => {
  it("refuses an account without SUB on either, and lets one with both create, read and delete it", async ({ call }) => {
    const path = (group: string) => `/groups/${group}/push-subscription`;
    // Paused: nothing is delivered to the (unreachable) public URL while the test runs.
    const body = (topic: string) => ({ body: { topic, target: { type: "webhook", url: "https://example.com/flaremq" }, paused: true } });
    expect(outcome(await call(APP, "PUT", path("GSub"), body("TDeny")))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(APP, "PUT", path("GSub"), body("TPub")))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(APP, "PUT", path("GDeny"), body("TSub")))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(APP, "GET", path("GSub")))).toBe("404 PUSH_SUBSCRIPTION_NOT_FOUND");
    const created = await call(APP, "PUT", path("GSub"), body("TSub"));
    expect(outcome(created)).toBe("201");
    expect((created.body as { secret: string }).secret).toMatch(/^whsec_/);
    // Moving it to a topic the account may not read is refused, and changes nothing.
    expect(outcome(await call(APP, "PUT", path("GSub"), body("TDeny")))).toBe("403 ACCESS_DENIED");
    const read = await call(APP, "GET", path("GSub"));
    expect(outcome(read)).toBe("200");
    expect((read.body as { subscription: { topic: string; version: number } }).subscription).toMatchObject({ topic: "TSub", version: 1 });
    expect(read.text).not.toContain((created.body as { secret: string }).secret);
    expect(outcome(await call(APP, "DELETE", path("GSub")))).toBe("200");
  });
});

describe("authentication failures", () => {
  const STATUS = "/topics/TBoth/status";

  it("refuses a request without a signature, or with part of one", async ({ server, call }) => {
    expect(outcome(await call(null, "GET", STATUS))).toBe("401 UNAUTHENTICATED");
    for (const dropped of Object.values(AuthHeaders)) {
      const headers = await signRequest(APP, { method: "GET", url: server.url + STATUS });
      delete headers[dropped];
      expect(`${dropped}: ${outcome(await fetchAnswer(server.url + STATUS, { headers }))}`).toBe(`${dropped}: 401 UNAUTHENTICATED`);
    }
  });

  it("refuses a wrong secret, an unknown access key, and a signature made for another request", async ({ server, call }) => {
    expect(outcome(await call({ accessKey: "app", secretKey: "not-the-app-secret-01" }, "GET", STATUS))).toBe("401 SIGNATURE_INVALID");
    expect(outcome(await call({ accessKey: "nobody", secretKey: APP.secretKey }, "GET", STATUS))).toBe("401 SIGNATURE_INVALID");
    // The signing key itself is not the secret.
    expect(outcome(await call({ accessKey: "app", secretKey: await deriveSigningKey(APP.secretKey) }, "GET", STATUS))).toBe("401 SIGNATURE_INVALID");
    const signedForOther = await signRequest(APP, { method: "GET", url: `${server.url}/topics/TSub/status` });
    expect(outcome(await fetchAnswer(server.url + STATUS, { headers: signedForOther }))).toBe("401 SIGNATURE_INVALID");
    const signedForQuery = await signRequest(APP, { method: "GET", url: `${server.url}/topics/TBoth/messages?key=a` });
    expect(outcome(await fetchAnswer(`${server.url}/topics/TBoth/messages?key=b`, { headers: signedForQuery }))).toBe("401 SIGNATURE_INVALID");
    const signedAsGet = await signRequest(APP, { method: "GET", url: `${server.url}/groups/GSub/members/x` });
    expect(outcome(await fetchAnswer(`${server.url}/groups/GSub/members/x`, { method: "DELETE", headers: signedAsGet }))).toBe("401 SIGNATURE_INVALID");
    const badSignature = await signRequest(APP, { method: "GET", url: server.url + STATUS });
    badSignature[AuthHeaders.signature] = badSignature[AuthHeaders.signature]!.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    expect(outcome(await fetchAnswer(server.url + STATUS, { headers: badSignature }))).toBe("401 SIGNATURE_INVALID");
  });

  it("refuses a date outside the 5 minute window, either way", async ({ server, call }) => {
    const now = Date.now();
    expect(outcome(await call(APP, "GET", STATUS, { now: now - 10 * 60_000 }))).toBe("401 REQUEST_EXPIRED");
    expect(outcome(await call(APP, "GET", STATUS, { now: now + 10 * 60_000 }))).toBe("401 REQUEST_EXPIRED");
    // Within the window. (A key whose replay guard lost its memory, after a restart or when idle,
    // refuses requests dated at or before the newest it had accepted: see auth-hardening item 4.)
    expect(outcome(await call(LATE, "GET", STATUS, { now: now - 4 * 60_000 }))).toBe("200");
    const headers = await signRequest(APP, { method: "GET", url: server.url + STATUS });
    headers[AuthHeaders.date] = "yesterday";
    expect(outcome(await fetchAnswer(server.url + STATUS, { headers }))).toBe("401 REQUEST_EXPIRED");
  });

  it("refuses the same signed request the second time", async ({ server, call }) => {
    const headers = await signRequest(APP, { method: "GET", url: server.url + STATUS });
    expect(outcome(await fetchAnswer(server.url + STATUS, { headers }))).toBe("200");
    expect(outcome(await fetchAnswer(server.url + STATUS, { headers }))).toBe("401 REQUEST_REPLAYED");

    // A replayed send stores nothing.
    const url = `${server.url}${Q0("TBoth")}/messages`;
    const before = ((await call(ROOT, "GET", `${Q0("TBoth")}/stats`)).body as { maxOffset: number }).maxOffset;
    const body = JSON.stringify({ messages: [{ body: "once", bodyEncoding: "utf8" }] });
    const signed = { ...(await signRequest(APP, { method: "POST", url, body })), "content-type": "application/json" };
    expect(outcome(await fetchAnswer(url, { method: "POST", headers: signed, body }))).toBe("200");
    expect(outcome(await fetchAnswer(url, { method: "POST", headers: signed, body }))).toBe("401 REQUEST_REPLAYED");
    const after = ((await call(ROOT, "GET", `${Q0("TBoth")}/stats`)).body as { maxOffset: number }).maxOffset;
    expect(after).toBe(before + 1);
  });

  it("refuses a body changed after signing, with or without a matching digest header", async ({ server, call }) => {
    const url = `${server.url}${Q0("TBoth")}/messages`;
    const before = ((await call(ROOT, "GET", `${Q0("TBoth")}/stats`)).body as { maxOffset: number }).maxOffset;
    const signedBody = JSON.stringify({ messages: [{ body: "signed", bodyEncoding: "utf8" }] });
    const tampered = JSON.stringify({ messages: [{ body: "tampered", bodyEncoding: "utf8" }] });
    const headers = { ...(await signRequest(APP, { method: "POST", url, body: signedBody })), "content-type": "application/json" };
    expect(outcome(await fetchAnswer(url, { method: "POST", headers, body: tampered }))).toBe("401 SIGNATURE_INVALID");
    const rehashed = { ...headers, [AuthHeaders.contentSha256]: await sha256Hex(tampered) };
    expect(outcome(await fetchAnswer(url, { method: "POST", headers: rehashed, body: tampered }))).toBe("401 SIGNATURE_INVALID");
    const after = ((await call(ROOT, "GET", `${Q0("TBoth")}/stats`)).body as { maxOffset: number }).maxOffset;
    expect(after).toBe(before);
    // The untouched request still goes through: the refusals did not burn its nonce.
    expect(outcome(await fetchAnswer(url, { method: "POST", headers, body: signedBody }))).toBe("200");
  });

  it("checks the operation the router runs: percent-encoded paths and HEAD", async ({ call }) => {
    expect(outcome(await call(null, "GET", "/admin/%61ccounts"))).toBe("401 UNAUTHENTICATED");
    expect(outcome(await call(null, "PUT", "/admin/%61ccounts/intruder", { body: { secretKey: "intruder-secret-0001", admin: true } }))).toBe(
      "401 UNAUTHENTICATED",
    );
    expect(outcome(await call(null, "GET", "/%6Eamesrv/topics"))).toBe("401 UNAUTHENTICATED");
    expect(outcome(await call(APP, "GET", "/admin/%61ccounts"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(APP, "GET", "/topics/%54Deny/status"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(APP, "GET", "/topics/%54Both/status"))).toBe("200");
    expect((await call(null, "HEAD", "/admin/accounts")).status).toBe(401);
    expect((await call(null, "HEAD", STATUS)).status).toBe(401);
    expect((await call(APP, "HEAD", "/topics/TDeny/status")).status).toBe(403);
    expect((await call(APP, "HEAD", STATUS)).status).toBe(200);
    // Unknown routes answer 404 only to a valid account.
    expect(outcome(await call(null, "GET", "/no/such/route"))).toBe("401 UNAUTHENTICATED");
    expect(outcome(await call(APP, "GET", "/no/such/route"))).toBe("404 NOT_FOUND");
    // No account was created along the way.
    const accounts = (await call(ROOT, "GET", "/admin/accounts")).body as { accounts: { accessKey: string }[] };
    expect(accounts.accounts.map((a) => a.accessKey)).not.toContain("intruder");
  });
});

describe("no endpoint reachable without credentials", () => {
  it("answers 401 UNAUTHENTICATED to every documented operation but /healthz, /dashboard/login and the API description", async ({ call }) => {
    const doc = (await call(ROOT, "GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path: p })));
    // The document is generated from the operation table the middleware authorizes with, and a
    // unit test (workers/openapi) holds it to the routes the app serves.
    expect(routes.length).toBeGreaterThan(40);
    for (const known of [
      "GET /healthz",
      "GET /dashboard/login",
      "PUT /admin/accounts/{accessKey}",
      "POST /brokers/{broker}/topics/{topic}/queues/{queueId}/messages",
    ]) {
      expect(routes.map((r) => `${r.method} ${r.path}`)).toContain(known);
    }
    const values: Record<string, string> = {
      broker: "broker-a",
      topic: "TBoth",
      queueId: "0",
      offset: "0",
      group: "GSub",
      clientId: "c1",
      transactionId: "tx1",
      offsetMsgId: enc(offsetMsgIdOfTBoth),
      msgId: "m1",
      accessKey: "intruder",
    };
    const PUBLIC = new Set(["GET /healthz", "GET /dashboard/login", "GET /openapi.json", "GET /docs"]);
    const actual: string[] = [];
    const expected: string[] = [];
    await Promise.all(
      routes.map(async ({ method, path: template }) => {
        const filled = template.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
          const value = values[name];
          if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
          return value;
        });
        const body = method === "POST" || method === "PUT" ? {} : undefined;
        const want = PUBLIC.has(`${method} ${template}`) ? "200" : "401 UNAUTHENTICATED";
        // As documented, with the first letter percent-encoded (the router decodes it), and as HEAD.
        const encoded = filled.replace(/^\/(.)/, (_, c: string) => `/%${c.charCodeAt(0).toString(16).toUpperCase()}`);
        for (const p of [filled, encoded]) {
          actual.push(`${method} ${p}: ${outcome(await call(null, method, p, body !== undefined ? { body } : {}))}`);
          expected.push(`${method} ${p}: ${want}`);
        }
        if (method === "GET") {
          actual.push(`HEAD ${filled}: ${(await call(null, "HEAD", filled)).status}`);
          expected.push(`HEAD ${filled}: ${want.slice(0, 3)}`);
        }
      }),
    );
    expect(actual.sort()).toEqual(expected.sort());
    const health = await call(null, "GET", "/healthz");
    expect(health.body).toEqual({ ok: true });
    // Nothing was changed by the unsigned calls.
    const accounts = (await call(ROOT, "GET", "/admin/accounts")).body as { accounts: { accessKey: string }[] };
    expect(accounts.accounts.map((a) => a.accessKey)).not.toContain("intruder");
  });
});

describe("accounts API", () => {
  it("creates accounts that sign requests, never shows secrets or signing keys, and deletes them", async ({ call }) => {
    const TMP = { accessKey: "tmp-user", secretKey: "tmp-user-secret-key-42" };
    const put = await call(ROOT, "PUT", "/admin/accounts/tmp-user", {
      body: { secretKey: TMP.secretKey, topicPerms: { TBoth: "SUB" }, groupPerms: { GSub: "PUB|SUB" } },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      accessKey: "tmp-user",
      admin: false,
      topicPerms: { TBoth: "SUB" },
      groupPerms: { GSub: "PUB|SUB" },
      defaultTopicPerm: "DENY",
      defaultGroupPerm: "DENY",
    });
    expect(put.text).not.toContain(TMP.secretKey);

    // The new account signs requests, with exactly its permissions.
    expect(outcome(await call(TMP, "GET", "/topics/TBoth/status"))).toBe("200");
    expect(outcome(await call(TMP, "GET", "/groups/GSub/progress"))).toBe("200");
    expect(outcome(await call(TMP, "POST", `${Q0("TBoth")}/messages`, { body: { messages: [{ body: "x", bodyEncoding: "utf8" }] } }))).toBe(
      "403 ACCESS_DENIED",
    );
    expect(outcome(await call(TMP, "GET", "/topics/TSub/status"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(TMP, "GET", "/admin/accounts"))).toBe("403 ACCESS_DENIED");

    const list = await call(ROOT, "GET", "/admin/accounts");
    expect(list.status).toBe(200);
    const signingKey = await deriveSigningKey(TMP.secretKey);
    expect(list.text).not.toContain(TMP.secretKey);
    expect(list.text).not.toContain(signingKey);
    expect(list.text).not.toContain("secretKey");
    expect(list.text).not.toContain("signingKey");
    expect((list.body as { accounts: unknown[] }).accounts).toContainEqual(put.body);

    // Non-admins may not read, create or delete accounts.
    expect(outcome(await call(APP, "GET", "/admin/accounts"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(APP, "PUT", "/admin/accounts/app-made", { body: { secretKey: "app-made-secret-0001", admin: true } }))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(OPEN, "DELETE", "/admin/accounts/tmp-user"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(TMP, "GET", "/topics/TBoth/status"))).toBe("200");
    expect(outcome(await call(ROOT, "PUT", "/admin/accounts/tmp-user", { body: { secretKey: "short" } }))).toBe("400 VALIDATION_FAILED");

    // Replacing the account replaces its secret.
    const NEW = { accessKey: "tmp-user", secretKey: "tmp-user-new-secret-43" };
    expect(outcome(await call(ROOT, "PUT", "/admin/accounts/tmp-user", { body: { secretKey: NEW.secretKey, topicPerms: { TBoth: "SUB" } } }))).toBe("200");
    expect(outcome(await call(NEW, "GET", "/topics/TBoth/status"))).toBe("200");
    expect(outcome(await call(TMP, "GET", "/topics/TBoth/status"))).toBe("401 SIGNATURE_INVALID");

    const deleted = await call(ROOT, "DELETE", "/admin/accounts/tmp-user");
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: "tmp-user" });
    // Other isolates may trust their account cache for up to 5 s; this server has one isolate.
    await expect.poll(async () => outcome(await call(NEW, "GET", "/topics/TBoth/status")), { timeout: 5_500, interval: 250 }).toBe("401 SIGNATURE_INVALID");
    expect(outcome(await call(ROOT, "DELETE", "/admin/accounts/tmp-user"))).toBe("404 NOT_FOUND");
    const listAfter = (await call(ROOT, "GET", "/admin/accounts")).body as { accounts: { accessKey: string }[] };
    expect(listAfter.accounts.map((a) => a.accessKey)).not.toContain("tmp-user");
  });
});

describe("no account configured", () => {
  it("refuses to serve, except /healthz, unless run locally with ALLOW_UNAUTHENTICATED_LOCAL", async ({ launchServer }) => {
    const locked = await launchServer({ vars: { ALLOW_UNAUTHENTICATED_LOCAL: "false" } });
    expect(outcome(await signedCall(locked.url, null, "GET", "/namesrv/topics"))).toBe("503 AUTH_NOT_CONFIGURED");
    expect(outcome(await signedCall(locked.url, null, "POST", `${Q0("T")}/messages`, { body: { messages: [{ body: "x", bodyEncoding: "utf8" }] } }))).toBe(
      "503 AUTH_NOT_CONFIGURED",
    );
    // A signature does not help when there is no account to check it against.
    expect(outcome(await signedCall(locked.url, ROOT, "GET", "/namesrv/topics"))).toBe("503 AUTH_NOT_CONFIGURED");
    expect(outcome(await signedCall(locked.url, null, "GET", "/healthz"))).toBe("200");
  });
});

describe("client with credentials", () => {
  it("sends, pulls, commits and administers when signed; fails with SIGNATURE_INVALID on a wrong secret", async ({ server }) => {
    const endpoint = server.url;
    const mq = { topic: "TBoth", brokerName: "broker-a", queueId: 0 };
    const producer = new Producer({ endpoint, group: "pg_app", credentials: APP });
    await producer.start();
    const sent = await producer.send({ topic: "TBoth", body: "signed by the client", keys: ["client-key"] }, { messageQueue: mq });
    expect(sent.sendStatus).toBe("SEND_OK");

    const consumer = new PullConsumer({ endpoint, group: "GSub", credentials: APP });
    const result = await consumer.pull(mq, "*", sent.queueOffset, 1, { maxWaitMs: 0 });
    expect(result.pullStatus).toBe("FOUND");
    expect(result.msgFoundList.map(bodyText)).toEqual(["signed by the client"]);
    await consumer.updateConsumeOffset(mq, sent.queueOffset + 1);
    expect(await consumer.fetchConsumeOffset(mq)).toBe(sent.queueOffset + 1);
    // The client surfaces refusals as MQErrors.
    expect(await codeOf(consumer.pull({ ...mq, topic: "TDeny" }, "*", 0, 1, { maxWaitMs: 0 }))).toBe("ACCESS_DENIED");
    expect(await codeOf(new PullConsumer({ endpoint, group: "GDeny", credentials: APP }).fetchConsumeOffset(mq))).toBe("ACCESS_DENIED");

    const admin = new Admin({ endpoint, credentials: ROOT });
    expect((await admin.listTopics()).map((t) => t.topic)).toEqual(expect.arrayContaining([...TOPICS]));
    const found = await admin.queryMessage("TBoth", "client-key");
    expect(found.map(bodyText)).toEqual(["signed by the client"]);
    await admin.createTopic("ClientMade", { queueNums: 1 });
    expect(await codeOf(new Admin({ endpoint, credentials: APP }).createTopic("AppMade", { queueNums: 1 }))).toBe("ACCESS_DENIED");

    const wrong = { accessKey: "app", secretKey: "wrong-secret-key-0001" };
    const badProducer = new Producer({ endpoint, group: "pg_app", credentials: wrong, retryTimesWhenSendFailed: 0 });
    await badProducer.start();
    expect(await codeOf(badProducer.send({ topic: "TBoth", body: "x" }, { messageQueue: mq }))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(new PullConsumer({ endpoint, group: "GSub", credentials: wrong }).pull(mq, "*", 0, 1, { maxWaitMs: 0 }))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(new Admin({ endpoint, credentials: wrong }).listTopics())).toBe("SIGNATURE_INVALID");
    expect(await codeOf(new Admin({ endpoint, credentials: null }).listTopics())).toBe("UNAUTHENTICATED");
    await producer.shutdown();
    await badProducer.shutdown();
  });
});

describe("dashboard session", () => {
  it("trades a signed request for a session token and an HttpOnly cookie", async ({ server, call }) => {
    const before = Date.now();
    const res = await fetch(`${server.url}/auth/session`, {
      method: "POST",
      headers: await signRequest(APP, { method: "POST", url: `${server.url}/auth/session` }),
    });
    expect(res.status).toBe(200);
    const { token, expiresAt } = (await res.json()) as { token: string; expiresAt: number };
    expect(token).toMatch(/^app\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 12 * 3600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 12 * 3600_000);
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const cookie = cookies[0]!;
    expect(cookie.startsWith(`mq_session=${token};`)).toBe(true);
    expect(cookie).toMatch(/;\s*HttpOnly/i);
    expect(cookie).toMatch(/;\s*SameSite=Strict/i);
    expect(cookie).toMatch(/;\s*Path=\//i);

    const dashboard = (headers: Record<string, string>) => fetchAnswer(`${server.url}/dashboard`, { headers });
    const withBearer = await dashboard({ authorization: `Bearer ${token}` });
    expect(withBearer.status).toBe(200);
    expect(withBearer.headers.get("content-type")).toMatch(/^text\/html/);
    expect(outcome(await dashboard({}))).toBe("401 UNAUTHENTICATED");
    expect(outcome(await dashboard({ cookie: `mq_session=${token}` }))).toBe("200");
    const forged = token.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    expect(outcome(await dashboard({ authorization: `Bearer ${forged}` }))).toBe("401 UNAUTHENTICATED");
    // Another account's name on app's token does not verify.
    expect(outcome(await dashboard({ authorization: `Bearer ${token.replace(/^app\./, "root.")}` }))).toBe("401 UNAUTHENTICATED");
    const extended = token.replace(/^app\.(\d+)\./, (_, t: string) => `app.${Number(t) + 1}.`);
    expect(outcome(await dashboard({ authorization: `Bearer ${extended}` }))).toBe("401 UNAUTHENTICATED");

    // The session carries the account's permissions.
    const bearer = { headers: { authorization: `Bearer ${token}` } };
    expect(outcome(await call(null, "GET", "/topics/TBoth/status", bearer))).toBe("200");
    expect(outcome(await call(null, "GET", "/topics/TDeny/status", bearer))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(null, "GET", "/admin/accounts", bearer))).toBe("403 ACCESS_DENIED");
    // Sessions are only handed out for a signed request.
    expect(outcome(await call(null, "POST", "/auth/session"))).toBe("401 UNAUTHENTICATED");
  });

  it("signs in through /dashboard/login in a browser and lands on the dashboard with its topics", async ({ server }) => {
    const browser = await launchChromium("auth");
    const context = browser.context;
    try {
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      page.setDefaultTimeout(10_000);

      // Unsigned, the browser is sent to sign in (item 13).
      await page.goto(`${server.url}/dashboard`);
      expect(new URL(page.url()).pathname).toBe("/dashboard/login");

      await page.goto(`${server.url}/dashboard/login`);
      await page.fill('[data-testid="access-key"]', ROOT.accessKey);
      await page.fill('[data-testid="secret-key"]', "not-the-root-secret-01");
      await page.click('[data-testid="sign-in"]');
      await page.locator('[data-testid="login-error"]', { hasText: "SIGNATURE_INVALID" }).waitFor();
      expect(new URL(page.url()).pathname).toBe("/dashboard/login");

      await page.fill('[data-testid="secret-key"]', ROOT.secretKey);
      await page.click('[data-testid="sign-in"]');
      await page.waitForURL((u) => u.pathname === "/dashboard");
      await page.waitForSelector("body[data-ready=true]");
      const row = page.locator('[data-testid="topic-row"][data-topic="TBoth"][data-loaded="true"]');
      await row.waitFor();
      expect(Number(await row.locator('[data-col="maxOffset"]').textContent())).toBeGreaterThan(0);
      await page.locator('[data-testid="topic-row"][data-topic="TDeny"]').waitFor();
      expect(await page.locator('[data-testid="topics-error"]').isHidden()).toBe(true);

      const cookie = (await context.cookies(server.url)).find((c) => c.name === "mq_session");
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.value).toMatch(/^root\.\d+\./);
      // The secret stays in the page: the browser kept no copy of it in cookies or storage.
      expect(JSON.stringify(await context.storageState())).not.toContain(ROOT.secretKey);

      // The sign-in link npm start prints: the key rides in the fragment and is dropped at once.
      await context.clearCookies();
      await page.goto(`${server.url}/dashboard/login#ak=${ROOT.accessKey}&sk=${encodeURIComponent(ROOT.secretKey)}`);
      await page.waitForURL((u) => u.pathname === "/dashboard");
      expect(page.url()).not.toContain(ROOT.secretKey);
      expect((await context.cookies(server.url)).some((c) => c.name === "mq_session")).toBe(true);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe("offsets name a topic too", () => {
  it("item 10: offset reads and commits need SUB on the topic as well as on the group", async ({ call }) => {
    const offsetPath = (topic: string, group: string) => `${Q0(topic)}/groups/${group}/offset`;
    const before = (await ok(call(ROOT, "GET", offsetPath("TDeny", "GSub")), "root reads")).body;
    const cases: [string, () => Promise<Answer>, string][] = [
      ["read TDeny", () => call(APP, "GET", offsetPath("TDeny", "GSub")), "403 ACCESS_DENIED"],
      ["read TPub", () => call(APP, "GET", offsetPath("TPub", "GSub")), "403 ACCESS_DENIED"],
      ["read TOther", () => call(APP, "GET", offsetPath("TOther", "GSub")), "403 ACCESS_DENIED"],
      ["read TSub", () => call(APP, "GET", offsetPath("TSub", "GSub")), "200"],
      // A commit past the queue's maxOffset is refused as OFFSET_ILLEGAL: without the topic
      // check, probing commits would tell a stranger how many messages the topic holds.
      ["commit TDeny", () => call(APP, "PUT", offsetPath("TDeny", "GSub"), { body: { offset: 1 } }), "403 ACCESS_DENIED"],
      ["probe TDeny", () => call(APP, "PUT", offsetPath("TDeny", "GSub"), { body: { offset: 1_000_000 } }), "403 ACCESS_DENIED"],
      ["commit TPub", () => call(APP, "PUT", offsetPath("TPub", "GSub"), { body: { offset: 1 } }), "403 ACCESS_DENIED"],
      ["commit TSub", () => call(APP, "PUT", offsetPath("TSub", "GSub"), { body: { offset: 1 } }), "200"],
      // The group's own retry topic: the group's permission, as everywhere.
      ["read %RETRY%GSub", () => call(APP, "GET", offsetPath("%RETRY%GSub", "GSub")), "200"],
      // Topic permission alone does not do either.
      ["read TSub as GDeny", () => call(APP, "GET", offsetPath("TSub", "GDeny")), "403 ACCESS_DENIED"],
      ["root reads TDeny", () => call(ROOT, "GET", offsetPath("TDeny", "GSub")), "200"],
    ];
    const actual: string[] = [];
    for (const [name, run] of cases) actual.push(`${name}: ${outcome(await run())}`);
    expect(actual).toEqual(cases.map(([name, , want]) => `${name}: ${want}`));
    // The refused commits changed nothing.
    expect((await call(ROOT, "GET", offsetPath("TDeny", "GSub"))).body).toEqual(before);
  });

  it("item 10: a group's progress without ?topic reports only the topics the caller may read", async ({ call }) => {
    // An admin's member subscribes the group to a topic the app account may not read.
    const heartbeat = {
      clientId: "progress-root-1",
      messageModel: "CLUSTERING",
      subscriptions: [
        { topic: "TDeny", expressionType: "TAG", expression: "*" },
        { topic: "TSub", expressionType: "TAG", expression: "*" },
      ],
      heartbeatIntervalMs: 1000,
      sessionTimeoutMs: 3000,
    };
    await ok(call(ROOT, "POST", "/groups/GSub/heartbeat", { body: heartbeat }), "root heartbeat");
    try {
      const topicsOf = async (cred: Cred) => {
        const answer = await ok(call(cred, "GET", "/groups/GSub/progress"), `progress as ${cred.accessKey}`);
        const queues = (answer.body as { queues: { messageQueue: { topic: string } }[] }).queues;
        return [...new Set(queues.map((q) => q.messageQueue.topic))].sort();
      };
      // The group also remembers topics other tests' members of GSub consumed; what matters is
      // that the app account never sees TDeny.
      const [root, app] = [await topicsOf(ROOT), await topicsOf(APP)];
      expect(root).toEqual(expect.arrayContaining(["TDeny", "TSub"]));
      expect(app).toContain("TSub");
      expect(app).not.toContain("TDeny");
      expect(root).toEqual(expect.arrayContaining(app));
    } finally {
      await call(ROOT, "DELETE", "/groups/GSub/members/progress-root-1");
    }
  });
});

describe("cluster list", () => {
  it("item 10: cluster list asks the queue objects for replication lag only for admins", async ({ call }) => {
    const replication = async (cred: Cred) => {
      const answer = await ok(call(cred, "GET", "/namesrv/brokers"), `cluster list as ${cred.accessKey}`);
      const brokers = (answer.body as { brokers: { brokerName: string; topics: string[]; replication: unknown }[] }).brokers;
      expect(brokers.map((b) => b.brokerName)).toEqual(["broker-a", "broker-b"]);
      expect(brokers.find((b) => b.brokerName === "broker-a")?.topics).toEqual(expect.arrayContaining([...TOPICS]));
      return brokers.map((b) => b.replication);
    };
    // Everyone sees the brokers, their roles and topics; only an admin gets the lag, whose
    // answer wakes up to 512 queue objects per broker.
    for (const r of await replication(ROOT)) {
      expect(r).toEqual({ queuesChecked: expect.any(Number), partial: false, slaves: [expect.objectContaining({ brokerId: 1 })] });
      expect((r as { queuesChecked: number }).queuesChecked).toBeGreaterThan(0);
    }
    expect(await replication(APP)).toEqual([null, null]);
    expect(await replication(OPEN)).toEqual([null, null]);
  });
});
