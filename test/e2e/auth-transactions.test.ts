/**
 * Transactions between accounts (issue 12, item 2): everything a producer group does (half
 * sends, decisions, check polls, its status) needs PUB on that producer group, another group's
 * transaction cannot be found, decided or attributed, and the TransactionProducer keeps
 * working for an account holding the right permissions. Raw signed HTTP for the matrix and the
 * attack, the real client for the producer.
 */
import { describe, expect } from "vitest";
import { PullConsumer, TransactionProducer, bodyText, type LocalTransactionState } from "../../client/index.js";
import type { Credentials as Cred } from "../../client/credentials.js";
import type { Perm } from "../../protocol/auth/permissions.js";
import { APP, OPEN, ROOT, outcome, type Answer } from "../auth-helpers.js";
import { test, it, type Call } from "../fixture.js";
import { codeOf, waitFor } from "../helpers.js";

const VICTIM: Cred = { accessKey: "victim", secretKey: "victim-secret-key-01" };
const ATTACKER: Cred = { accessKey: "attacker", secretKey: "attacker-secret-k-01" };
const ROLES = { root: ROOT, app: APP, open: OPEN } as const;
type Role = keyof typeof ROLES;

const TOPIC = "TTx";
const APP_GROUP_PERMS: Record<string, Perm> = { GPub: "PUB", GSub: "SUB", GBoth: "PUB|SUB", GDeny: "DENY" };
const GROUPS = ["GPub", "GSub", "GBoth", "GDeny", "GOther"] as const;
const ACCOUNTS = [
  { ...ROOT, admin: true },
  { ...APP, topicPerms: { [TOPIC]: "PUB|SUB" }, groupPerms: APP_GROUP_PERMS },
  { ...OPEN, defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "PUB|SUB" },
  { ...VICTIM, topicPerms: { [TOPIC]: "PUB|SUB" }, groupPerms: { PGVictim: "PUB" } },
  // SUB on a consumer group of the victim's name is no right on the producer group.
  { ...ATTACKER, topicPerms: { [TOPIC]: "PUB|SUB" }, groupPerms: { PGAttacker: "PUB", PGVictim: "SUB" } },
];

function groupPerm(role: Role, group: string): Perm {
  return role === "app" ? (APP_GROUP_PERMS[group] ?? "DENY") : "PUB|SUB";
}

const Q0 = `/brokers/broker-a/topics/${TOPIC}/queues/0`;

/** The calls of this file's tables, on the file's server. */
function transactionCalls(call: Call) {
  const halfSend = (cred: Cred, producerGroup: string, body: string, query = "") =>
    call(cred, "POST", `${Q0}/messages${query}`, { body: { messages: [{ body, bodyEncoding: "utf8" }], transaction: { producerGroup } } });

  const decide = (cred: Cred, transactionId: string, producerGroup: string, decision: LocalTransactionState) =>
    call(cred, "POST", `${Q0}/transactions/${transactionId}`, { body: { producerGroup, decision } });

  async function halfOf(producerGroup: string, body: string): Promise<string> {
    const sent = await halfSend(ROOT, producerGroup, body);
    if (sent.status !== 200) throw new Error(`half for ${producerGroup}: ${sent.status} ${sent.text}`);
    return sent.body.transactionId as string;
  }

  async function transactions(state?: string): Promise<{ transactionId: string; producerGroup: string; state: string }[]> {
    const answer = await call(ROOT, "GET", `${Q0}/transactions${state ? `?state=${state}` : ""}`);
    return (answer.body as { transactions: { transactionId: string; producerGroup: string; state: string }[] }).transactions;
  }

  return { halfSend, decide, halfOf, transactions };
}

test.override("serverOptions", {
  vars: {
    FLAREMQ_ACCOUNTS: JSON.stringify(ACCOUNTS),
    // Checks come quickly and never give up, so the producer test does not wait on the clock.
    TRANSACTION_TIMEOUT_MS: "300",
    TRANSACTION_CHECK_INTERVAL_MS: "300",
    TRANSACTION_CHECK_MAX: "100000",
  },
  credentials: ROOT,
});

test.beforeAll(async ({ call }) => {
  const created = await call(ROOT, "PUT", `/namesrv/topics/${TOPIC}`, { body: { queueNums: 1, brokers: ["broker-a"] } });
  if (created.status >= 300) throw new Error(`create ${TOPIC}: ${created.text}`);
});

describe("item 2: producer-group permissions", () => {
  it("item 2: a half send, a decision, a check poll and the group's status need PUB on the producer group", async ({ call }) => {
    const { halfSend, decide, halfOf, transactions } = transactionCalls(call);
    // One pending half message per group, made by the admin, for the decisions to name.
    const txOf = Object.fromEntries(await Promise.all(GROUPS.map(async (g) => [g, await halfOf(g, `half of ${g}`)] as const)));
    const before = await transactions();
    const ops: [string, (cred: Cred, group: string) => Promise<Answer>, string][] = [
      ["halfSend", (cred, g) => halfSend(cred, g, `by ${cred.accessKey}`), "200"],
      ["halfSendOneway", (cred, g) => halfSend(cred, g, `oneway by ${cred.accessKey}`, "?oneway=true"), "202"],
      ["decideUnknow", (cred, g) => decide(cred, txOf[g]!, g, "UNKNOW"), "200"],
      ["checks", (cred, g) => call(cred, "GET", `/producers/${g}/checks?maxWaitMs=0`), "200"],
      ["status", (cred, g) => call(cred, "GET", `/producers/${g}`), "200"],
    ];
    const actual: string[] = [];
    const expected: string[] = [];
    for (const role of Object.keys(ROLES) as Role[]) {
      for (const group of GROUPS) {
        const perm = groupPerm(role, group);
        const allowed = perm === "PUB" || perm === "PUB|SUB";
        for (const [name, run, success] of ops) {
          actual.push(`${role} ${name} ${group} (${perm}): ${outcome(await run(ROLES[role], group))}`);
          expected.push(`${role} ${name} ${group} (${perm}): ${allowed ? success : "403 ACCESS_DENIED"}`);
        }
      }
    }
    expect(actual).toEqual(expected);

    // A plain send names no producer group: the topic permission is all it needs.
    expect(outcome(await call(APP, "POST", `${Q0}/messages`, { body: { messages: [{ body: "plain", bodyEncoding: "utf8" }] } }))).toBe("200");
    // The refused sends and decisions changed nothing: the new halves are exactly the allowed
    // ones (two per allowed role and group; oneway ones land once written), all still pending.
    const allowedSends = (Object.keys(ROLES) as Role[]).flatMap((role) => GROUPS.filter((g) => ["PUB", "PUB|SUB"].includes(groupPerm(role, g))).map((g) => g));
    const expectedCount = before.length + 2 * allowedSends.length;
    await waitFor("every allowed half stored", async () => (await transactions()).length >= expectedCount, 10_000);
    const after = await transactions();
    expect(after).toHaveLength(expectedCount);
    const newGroups = after.filter((t) => !before.some((b) => b.transactionId === t.transactionId)).map((t) => t.producerGroup);
    expect(newGroups.sort()).toEqual([...allowedSends, ...allowedSends].sort());
    expect(after.filter((t) => t.state !== "PENDING")).toEqual([]);
    // Settle them, so their checks do not keep coming during the other tests.
    for (const t of after) await decide(ROOT, t.transactionId, t.producerGroup, "ROLLBACK_MESSAGE");
  });

  it("item 2: another group's transaction cannot be found, decided or attributed, and its id is not guessable", async ({ call }) => {
    const { halfSend, decide, transactions } = transactionCalls(call);
    // The victim's half message, the way the attacker's own comes back to it.
    const own = await halfSend(ATTACKER, "PGAttacker", "attacker's own");
    expect(own.status).toBe(200);
    const victim = await halfSend(VICTIM, "PGVictim", "victim's secret");
    expect(victim.status).toBe(200);
    const ownId = own.body.transactionId as string;
    const victimId = victim.body.transactionId as string;

    // Naming the victim's group needs PUB on it: refused before anything is looked up.
    for (const decision of ["COMMIT_MESSAGE", "ROLLBACK_MESSAGE", "UNKNOW"] as const) {
      expect(outcome(await decide(ATTACKER, victimId, "PGVictim", decision))).toBe("403 ACCESS_DENIED");
    }
    expect(outcome(await halfSend(ATTACKER, "PGVictim", "forged"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(ATTACKER, "GET", "/producers/PGVictim/checks?maxWaitMs=0"))).toBe("403 ACCESS_DENIED");
    expect(outcome(await call(ATTACKER, "GET", "/producers/PGVictim"))).toBe("403 ACCESS_DENIED");

    // Naming its own group: the victim's transaction answers exactly as one that does not exist.
    const unknownId = "0123456789ABCDEF0123456789ABCDEF";
    for (const decision of ["COMMIT_MESSAGE", "ROLLBACK_MESSAGE", "UNKNOW"] as const) {
      const probe = await decide(ATTACKER, victimId, "PGAttacker", decision);
      const none = await decide(ATTACKER, unknownId, "PGAttacker", decision);
      expect(outcome(probe)).toBe("404 TRANSACTION_NOT_FOUND");
      expect({ ...probe.body, requestId: null, message: String(probe.body.message).replace(victimId, "ID") }).toEqual({
        ...none.body,
        requestId: null,
        message: String(none.body.message).replace(unknownId, "ID"),
      });
      expect(probe.text).not.toContain("PGVictim");
    }

    // The probe the issue describes: ids around the attacker's own (same prefix and time,
    // next counter values) do not reach the victim's, made just after it.
    const prefix = ownId.slice(0, 12);
    const counter = parseInt(ownId.slice(24), 16);
    const guesses = new Set<string>();
    for (let ms = 0; ms <= 50; ms++) {
      const time = (parseInt(ownId.slice(12, 24), 16) + ms).toString(16).toUpperCase().padStart(12, "0");
      for (let k = 1; k <= 40; k++) guesses.add(prefix + time + ((counter + k) >>> 0).toString(16).toUpperCase().padStart(8, "0"));
    }
    expect(guesses.has(victimId)).toBe(false);
    expect(victimId.slice(0, 12)).not.toBe(prefix);

    // Nothing changed: the victim's transaction is still pending, and the victim decides it.
    const pending = (await transactions("PENDING")).find((t) => t.transactionId === victimId);
    expect(pending).toMatchObject({ producerGroup: "PGVictim", state: "PENDING" });
    expect((await decide(VICTIM, victimId, "PGVictim", "ROLLBACK_MESSAGE")).body).toMatchObject({ transactionId: victimId, state: "ROLLED_BACK" });
    expect((await decide(ATTACKER, ownId, "PGAttacker", "ROLLBACK_MESSAGE")).body).toMatchObject({ state: "ROLLED_BACK" });
  });
});

describe("item 2: TransactionProducer with a limited account", () => {
  it("item 2: sends, commits and answers check-backs with PUB on the topic and the producer group; fails with ACCESS_DENIED without the group", async ({
    server,
    call,
  }) => {
    const { transactions } = transactionCalls(call);
    let settle = false;
    const checked: string[] = [];
    const producer = new TransactionProducer({
      endpoint: server.url,
      credentials: VICTIM,
      group: "PGVictim",
      checkPollWaitMs: 1000,
      checkPollRetryDelayMs: 100,
      transactionListener: {
        executeLocalTransaction: (m): LocalTransactionState => (m.body === "now" ? "COMMIT_MESSAGE" : "UNKNOW"),
        checkLocalTransaction: (m): LocalTransactionState => {
          checked.push(bodyText(m));
          return settle ? "COMMIT_MESSAGE" : "UNKNOW";
        },
      },
    });
    await producer.start();
    try {
      const now = await producer.sendMessageInTransaction({ topic: TOPIC, body: "now" });
      expect(now.localTransactionState).toBe("COMMIT_MESSAGE");
      const later = await producer.sendMessageInTransaction({ topic: TOPIC, body: "later" });
      expect(later.localTransactionState).toBe("UNKNOW");
      // The check-back reaches this producer through its poll; once it says COMMIT, it is visible.
      await waitFor('the check-back of "later"', () => checked.includes("later"), 20_000);
      settle = true;
      await waitFor(
        '"later" committed',
        async () => (await transactions()).find((t) => t.transactionId === later.transactionId)?.state === "COMMITTED",
        20_000,
      );
      expect((await transactions()).find((t) => t.transactionId === now.transactionId)?.state).toBe("COMMITTED");

      // The victim holds no consumer group: reading is the admin's here.
      const reader = new PullConsumer({ endpoint: server.url, credentials: ROOT, group: "cg-root" });
      const mq = { topic: TOPIC, brokerName: "broker-a", queueId: 0 };
      const pulled = await reader.pull(mq, "*", 0, 32, { maxWaitMs: 0 });
      const bodies = pulled.msgFoundList.map(bodyText);
      expect(bodies.filter((b) => b === "now" || b === "later")).toEqual(["now", "later"]);
    } finally {
      await producer.shutdown();
    }

    // The same producer code under an account without PUB on the group is refused at the send.
    const refused = new TransactionProducer({
      endpoint: server.url,
      credentials: ATTACKER,
      group: "PGVictim",
      retryTimesWhenSendFailed: 0,
      checkPollRetryDelayMs: 100,
      transactionListener: { executeLocalTransaction: () => "COMMIT_MESSAGE", checkLocalTransaction: () => "COMMIT_MESSAGE" },
    });
    await refused.start();
    try {
      expect(await codeOf(refused.sendMessageInTransaction({ topic: TOPIC, body: "forged" }))).toBe("ACCESS_DENIED");
    } finally {
      await refused.shutdown();
    }
  });
});
