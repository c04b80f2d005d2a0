/**
 * The admin CLI as a user runs it: a child process (`node --import tsx cli/main.ts ...`, and
 * once through the `bin/flaremq.js` launcher) against a real server. Each spawn costs about
 * half a second, so independent invocations run in parallel.
 */
import { spawn } from "node:child_process";
import type { ClusterInfo } from "../../protocol/cluster.js";
import { fileURLToPath } from "node:url";
import { describe, expect } from "vitest";
import { type GroupInfo, type GroupProgress, type MessageExt, type SendResult, type TopicConfig, type TopicRouteData } from "../../client/index.js";
import type { HalfMessageInfo } from "../../client/admin.js";
import { test as e2e } from "../fixture.js";
import { http, uniqueName } from "../helpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A topic with 2 queues on each broker, created by the first test and used by the rest. */
const topic = uniqueName("CliTopic");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI against `endpoint` (as $FLAREMQ_ENDPOINT) with no credentials unless `env` gives some. */
function spawnCli(endpoint: string, args: readonly string[], options: { entry?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const entry = options.entry ?? "cli/main.ts";
  const nodeArgs = entry.endsWith(".ts") ? ["--import", "tsx", entry] : [entry];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: ROOT,
      // No dev key from the machine's home folder or environment: this server has no accounts.
      env: { ...process.env, HOME: "/nonexistent-home", FLAREMQ_ACCESS_KEY: "", FLAREMQ_SECRET_KEY: "", FLAREMQ_ENDPOINT: endpoint, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a command with --json, expects exit 0, and parses stdout. */
async function spawnJson<T>(endpoint: string, args: string[]): Promise<T> {
  const r = await spawnCli(endpoint, [...args, "--json"]);
  expect(r.code, `flaremq ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

const test = e2e
  // Transaction checks far off, so a half message stays PENDING with 0 checks while the test looks.
  .override("serverOptions", { vars: { TRANSACTION_TIMEOUT_MS: "600000" } })
  /** `cli("topic", "list")`: the CLI against the file's server. */
  .extend(
    "cli",
    { scope: "file" },
    ({ server }) =>
      (...args: string[]): Promise<Run> =>
        spawnCli(server.url, args),
  )
  /** `json<T>("topic", "list")`: the same with --json, expecting exit 0, stdout parsed. */
  .extend(
    "json",
    { scope: "file" },
    ({ server }) =>
      <T>(...args: string[]): Promise<T> =>
        spawnJson<T>(server.url, args),
  );
const it = test;

type MessageJson = Omit<MessageExt, "body"> & { body: string; bodyEncoding: "utf8" | "base64" };

/** What `--json` prints for a message: every MessageExt field, the body decoded. */
function asJson(m: MessageExt, body: string, bodyEncoding: "utf8" | "base64" = "utf8"): MessageJson {
  return { ...m, body, bodyEncoding };
}

const queueData = (brokerName: string, read: number, write: number, perm = 6) => ({
  brokerName,
  readQueueNums: read,
  writeQueueNums: write,
  perm,
  topicSysFlag: 0,
});

describe("topic and cluster", () => {
  it("creates, updates, lists, routes and deletes topics; lists the cluster", async ({ admin, cli, json }) => {
    const other = uniqueName("CliOther");
    const [created, createdOther] = await Promise.all([
      json<TopicConfig>("topic", "create", "--topic", topic, "--queues", "2"),
      json<TopicConfig>("topic", "create", "--topic", other, "--queues", "1", "--brokers", "broker-a,broker-b"),
    ]);
    expect(created.topic).toBe(topic);
    expect(created.queues).toEqual([queueData("broker-a", 2, 2), queueData("broker-b", 2, 2)]);
    expect(createdOther.queues).toEqual([queueData("broker-a", 1, 1), queueData("broker-b", 1, 1)]);

    const [updated, route, routeText, list] = await Promise.all([
      json<TopicConfig>("topic", "update", "--topic", other, "--read-queues", "3", "--write-queues", "2", "--perm", "4", "--brokers", "broker-b"),
      json<TopicRouteData>("topic", "route", "--topic", topic),
      cli("topic", "route", "--topic", topic),
      json<TopicConfig[]>("topic", "list"),
    ]);
    expect(updated.queues).toEqual([queueData("broker-b", 3, 2, 4)]);
    expect(route).toEqual({
      brokerDatas: [
        { cluster: "DefaultCluster", brokerName: "broker-a", brokerAddrs: { "0": "/brokers/broker-a", "1": "/brokers/broker-a?brokerId=1" } },
        { cluster: "DefaultCluster", brokerName: "broker-b", brokerAddrs: { "0": "/brokers/broker-b", "1": "/brokers/broker-b?brokerId=1" } },
      ],
      queueDatas: [queueData("broker-a", 2, 2), queueData("broker-b", 2, 2)],
    });
    expect(routeText.stdout).toBe(
      [
        "BROKER    CLUSTER         ADDRESS                                         READ_QUEUES  WRITE_QUEUES  PERM",
        "broker-a  DefaultCluster  /brokers/broker-a,/brokers/broker-a?brokerId=1            2             2     6",
        "broker-b  DefaultCluster  /brokers/broker-b,/brokers/broker-b?brokerId=1            2             2     6",
        "",
      ].join("\n"),
    );
    expect(list.map((t) => t.topic).sort()).toEqual([topic, other].sort());
    const [cluster, topics, clusterText] = await Promise.all([json<ClusterInfo>("cluster", "list"), admin.listTopics(), cli("cluster", "list")]);
    const on = (broker: string) => topics.filter((t) => t.queues.some((q) => q.brokerName === broker)).map((t) => t.topic);
    expect(cluster).toMatchObject({ clusterName: "DefaultCluster", autoCreateTopicEnable: true, nameServers: ["ns-0", "ns-1"] });
    expect(cluster.brokers.map((b) => [b.brokerName, b.alive, b.brokerIds, b.topics])).toEqual([
      ["broker-a", true, { "0": "ASYNC_MASTER", "1": "SLAVE" }, on("broker-a")],
      ["broker-b", true, { "0": "ASYNC_MASTER", "1": "SLAVE" }, on("broker-b")],
    ]);
    for (const b of cluster.brokers) {
      expect(Date.now() - b.lastUpdateTimestamp).toBeLessThan(60_000);
      expect(b.replication?.slaves.map((s) => s.brokerId)).toEqual([1]);
    }
    expect(on("broker-a")).toEqual([topic]);
    expect(clusterText.stdout).toMatch(/^broker-a\s+0\s+ASYNC_MASTER\s+\/brokers\/broker-a\s+alive\s+\d+s ago\s+rw\s+1\s+-$/m);
    expect(clusterText.stdout).toMatch(/^broker-a\s+1\s+SLAVE\s+\/brokers\/broker-a\?brokerId=1\s+alive\s+\d+s ago\s+rw\s+1\s+(\d+|unknown)$/m);

    expect(await json("topic", "delete", "--topic", other)).toEqual({ topic: other, deleted: true });
    const gone = await cli("topic", "route", "--topic", other, "--json");
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout)).toEqual({ error: { code: "TOPIC_NOT_EXIST", message: expect.any(String) } });
    expect(gone.stderr).toMatch(/^error TOPIC_NOT_EXIST: /);
  });
});

describe("messages", () => {
  it("sends, views by offsetMsgId, msgId and offset, queries by key, and shows topic status", async ({ admin, producer, cli, json }) => {
    const before = Date.now();
    const [first, second] = await Promise.all([
      json<SendResult>("message", "send", "--topic", topic, "--body", "hello", "--tags", "TagA", "--keys", "k1,k2", "--property", "color=red", "size=9"),
      json<SendResult>("message", "send", "--topic", topic, "--body", "wörld", "--keys", "k1", "--property", "a=x=y", "--property", "b=2"),
    ]);
    for (const r of [first, second]) {
      expect(r.sendStatus).toBe("SEND_OK");
      expect(r.messageQueue.topic).toBe(topic);
      expect(r.msgIds).toEqual([r.msgId]);
    }
    // A binary body, sent with the client, is shown as base64.
    const bytes = new Uint8Array([0xff, 0x00, 0xfe, 0x41]);
    const binary = await producer.send({ topic, body: bytes, keys: ["bin"] });
    const [m1, m2, mb] = await Promise.all([
      admin.viewMessage(first.offsetMsgId),
      admin.viewMessage(second.offsetMsgId),
      admin.viewMessage(binary.offsetMsgId),
    ]);
    expect(m1.tags).toBe("TagA");
    expect(m1.keys).toEqual(["k1", "k2"]);
    expect(m1.properties).toEqual({ color: "red", size: "9" });
    expect(m2.properties).toEqual({ a: "x=y", b: "2" });

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const [byOffsetId, byMsgId, byOffset, binaryView, binaryText, query, queryMax, queryLate, queryEarly, status] = await Promise.all([
      json<MessageJson>("message", "view", "--id", first.offsetMsgId),
      json<MessageJson>("message", "view", "--id", second.msgId, "--topic", topic),
      json<MessageJson>(
        "message",
        "by-offset",
        "--topic",
        topic,
        "--broker",
        second.messageQueue.brokerName,
        "--queue",
        String(second.messageQueue.queueId),
        "--offset",
        String(second.queueOffset),
      ),
      json<MessageJson>("message", "view", "--id", binary.offsetMsgId),
      cli("message", "view", "--id", binary.offsetMsgId),
      json<MessageJson[]>("message", "query", "--topic", topic, "--key", "k1"),
      json<MessageJson[]>("message", "query", "--topic", topic, "--key", "k1", "--max", "1"),
      json<MessageJson[]>("message", "query", "--topic", topic, "--key", "k1", "--begin", future),
      json<MessageJson[]>("message", "query", "--topic", topic, "--key", "k1", "--begin", "0", "--end", String(before - 1)),
      json<{
        topic: string;
        queues: { messageQueue: SendResult["messageQueue"]; minOffset: number; maxOffset: number; lastUpdateTimestamp: number; storageBytes: number }[];
      }>("topic", "status", "--topic", topic),
    ]);
    expect(byOffsetId).toEqual(asJson(m1, "hello"));
    expect(byMsgId).toEqual(asJson(m2, "wörld"));
    expect(byOffset).toEqual(asJson(m2, "wörld"));
    expect(binaryView).toEqual(asJson(mb, "/wD+QQ==", "base64"));
    expect(binaryText.stdout).toContain("\nbody (base64):\n/wD+QQ==\n");
    // The server's order: store time, then queue offset, then broker and queue.
    const inStoreOrder = [m1, m2].sort(
      (a, b) => a.storeTimestamp - b.storeTimestamp || a.queueOffset - b.queueOffset || a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId,
    );
    expect(query).toEqual([asJson(inStoreOrder[0]!, bodyOf(inStoreOrder[0]!)), asJson(inStoreOrder[1]!, bodyOf(inStoreOrder[1]!))]);
    expect(queryMax.map((m) => m.msgId)).toEqual([inStoreOrder[0]!.msgId]);
    expect(queryLate).toEqual([]);
    expect(queryEarly).toEqual([]);

    const sent = [first, second, binary];
    const count = (brokerName: string, queueId: number) =>
      sent.filter((s) => s.messageQueue.brokerName === brokerName && s.messageQueue.queueId === queueId).length;
    expect(status.topic).toBe(topic);
    expect(status.queues.map((q) => [q.messageQueue, q.minOffset, q.maxOffset])).toEqual(
      ["broker-a", "broker-b"].flatMap((brokerName) => [0, 1].map((queueId) => [{ topic, brokerName, queueId }, 0, count(brokerName, queueId)])),
    );
    for (const q of status.queues) {
      expect(q.storageBytes).toBeGreaterThan(0);
      if (q.maxOffset === 0) expect(q.lastUpdateTimestamp).toBe(0);
    }
  });
});

function bodyOf(m: MessageExt): string {
  return new TextDecoder().decode(m.body);
}

describe("groups", () => {
  it("lists groups, shows members, resets offsets by time and shows progress with lag", async ({ server, admin, cli, json }) => {
    const group = uniqueName("cli_cg");
    const idle = uniqueName("cli_idle");
    const beat = await http(`${server.url}/groups/${group}/heartbeat`, {
      method: "POST",
      body: {
        clientId: "cli-member-1",
        messageModel: "CLUSTERING",
        subscriptions: [{ topic, expressionType: "TAG", expression: "*" }],
        heartbeatIntervalMs: 30_000,
        sessionTimeoutMs: 120_000,
      },
    });
    expect(beat.status).toBe(200);
    const status = await admin.topicStatus(topic);
    const maxOffsets = status.queues.map((q) => q.maxOffset);
    const totalMessages = maxOffsets.reduce((a, b) => a + b, 0);
    expect(totalMessages).toBeGreaterThan(0);

    const [groups, members, resetStart] = await Promise.all([
      json<{ group: string; lastSeenAt: number }[]>("group", "list"),
      json<GroupInfo>("group", "members", "--group", group),
      json<{ group: string; topic: string; offsetResetSeq: number; offsets: { messageQueue: unknown; offset: number }[] }>(
        "group",
        "reset-offset",
        "--group",
        idle,
        "--topic",
        topic,
        "--timestamp",
        "0",
      ),
    ]);
    expect(members).toEqual({
      group,
      generation: beat.body.generation,
      allocateStrategy: "AVERAGELY",
      offsetResetSeq: 0,
      consumeMode: "OFFSETS",
      members: [
        {
          clientId: "cli-member-1",
          messageModel: "CLUSTERING",
          subscriptions: [{ topic, expressionType: "TAG", expression: "*" }],
          zone: null,
          lastHeartbeatAt: expect.any(Number),
          sessionTimeoutMs: 120_000,
          assignment: beat.body.assignment,
        },
      ],
    });
    expect(groups.filter((g) => g.group === group)).toEqual([{ group, lastSeenAt: members.members[0]!.lastHeartbeatAt }]);
    const queues = status.queues.map((q) => q.messageQueue);
    expect(resetStart).toEqual({ group: idle, topic, offsetResetSeq: 1, offsets: queues.map((mq) => ({ messageQueue: mq, offset: 0 })) });

    const [progressAll, progressText] = await Promise.all([
      json<GroupProgress>("group", "progress", "--group", idle, "--topic", topic),
      cli("group", "progress", "--group", idle, "--topic", topic),
    ]);
    expect(progressAll).toEqual({
      group: idle,
      totalLag: totalMessages,
      queues: status.queues.map((q) => ({
        messageQueue: q.messageQueue,
        brokerOffset: q.maxOffset,
        consumerOffset: 0,
        minOffset: 0,
        lag: q.maxOffset,
        lastTimestamp: q.lastUpdateTimestamp,
        behindMinOffset: false,
        inflight: 0,
      })),
    });
    expect(progressText.stdout.trimEnd().split("\n").at(-1)).toBe(`total lag:  ${totalMessages}`);
    expect(progressText.stdout.split("\n")[0]).toBe(
      "TOPIC" + " ".repeat(topic.length - 3) + "BROKER    QUEUE  BROKER_OFFSET  CONSUMER_OFFSET  LAG  LAST_STORED",
    );

    const resetEnd = await json<{ offsets: { offset: number }[] }>(
      "group",
      "reset-offset",
      "--group",
      idle,
      "--topic",
      topic,
      "--timestamp",
      new Date(Date.now() + 60_000).toISOString(),
    );
    expect(resetEnd.offsets.map((o) => o.offset)).toEqual(maxOffsets);
    const caughtUp = await json<GroupProgress>("group", "progress", "--group", idle, "--topic", topic);
    expect(caughtUp.totalLag).toBe(0);
    expect(caughtUp.queues.map((q) => q.consumerOffset)).toEqual(maxOffsets);
  });
});

describe("dead letters and transactions", () => {
  it("lists, resends and deletes dead-lettered messages", async ({ server, admin, producer, cli, json }) => {
    const group = uniqueName("cli_dlq");
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    const sent: SendResult[] = [];
    for (const body of ["dead-0", "dead-1", "dead-2"]) sent.push(await producer.send({ topic, body, keys: ["dlq-key"] }, { messageQueue: mq }));
    for (const s of sent) {
      const r = await http(`${server.url}/groups/${group}/sendback`, {
        method: "POST",
        body: { messageQueue: mq, queueOffset: s.queueOffset, delayLevel: -1 },
      });
      expect(r.body.destination).toBe("DLQ");
    }
    const [listed, listedMax, missing] = await Promise.all([
      json<MessageJson[]>("dlq", "list", "--group", group),
      json<MessageJson[]>("dlq", "list", "--group", group, "--max", "2"),
      cli("dlq", "resend", "--group", group),
    ]);
    expect(listed.map((m) => [m.topic, m.brokerName, m.queueOffset, m.msgId, m.body, m.bodyEncoding, m.reconsumeTimes, m.properties.RETRY_TOPIC])).toEqual(
      sent.map((s, i) => [`%DLQ%${group}`, "broker-a", i, s.msgId, `dead-${i}`, "utf8", 1, topic]),
    );
    expect(listedMax).toEqual(listed.slice(0, 2));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error USAGE: give either --all or --offset-id\nusage: flaremq dlq resend --group G [--all] [--offset-id ID ...]\n`);

    const ids = listed.map((m) => m.offsetMsgId);
    expect(await json("dlq", "resend", "--group", group, "--offset-id", ids[0]!)).toEqual({ resent: 1 });
    expect(await json("dlq", "resend", "--group", group, "--offset-id", ids[1]!, ids[2]!)).toEqual({ resent: 2 });
    expect(await json("dlq", "resend", "--group", group, "--all")).toEqual({ resent: 3 });
    const resent = (await admin.queryMessage(topic, "dlq-key", { maxNum: 64 })).filter((m) => m.properties.DLQ_RESENT_FROM !== undefined);
    expect(resent.map((m) => m.properties.DLQ_RESENT_FROM).sort()).toEqual([...ids, ...ids].sort());
    expect(resent.every((m) => m.reconsumeTimes === 0)).toBe(true);

    const [deleted, noBroker] = await Promise.all([
      json("dlq", "delete", "--group", group, "--broker", "broker-a", "--before-offset", "2"),
      cli("dlq", "delete", "--group", group, "--broker", "broker-z", "--before-offset", "1"),
    ]);
    expect(deleted).toEqual({ deleted: 2 });
    expect(noBroker.code).toBe(1);
    expect(noBroker.stderr).toMatch(/^error TOPIC_NOT_EXIST: /);
    expect((await json<MessageJson[]>("dlq", "list", "--group", group)).map((m) => m.offsetMsgId)).toEqual([ids[2]]);
  });

  it("lists half messages by state", async ({ server, cli, json }) => {
    const producerGroup = uniqueName("cli_txpg");
    const half = await http(`${server.url}/brokers/broker-b/topics/${topic}/queues/1/messages`, {
      method: "POST",
      body: { messages: [{ body: "half", bodyEncoding: "utf8" }], transaction: { producerGroup } },
    });
    expect(half.status).toBe(200);
    const [pending, committed, badState] = await Promise.all([
      json<HalfMessageInfo[]>("transaction", "list", "--topic", topic, "--state", "PENDING"),
      json<HalfMessageInfo[]>("transaction", "list", "--topic", topic, "--state", "COMMITTED"),
      cli("transaction", "list", "--topic", topic, "--state", "MAYBE"),
    ]);
    expect(pending).toEqual([
      {
        transactionId: half.body.transactionId,
        producerGroup,
        state: "PENDING",
        bornTimestamp: expect.any(Number),
        checkTimes: 0,
        nextCheckAt: expect.any(Number),
        queueOffset: null,
        decidedAt: null,
        messageQueue: { topic, brokerName: "broker-b", queueId: 1 },
      },
    ]);
    expect(committed).toEqual([]);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain("error USAGE: --state must be one of PENDING, COMMITTED, ROLLED_BACK, GIVEN_UP\n");
  });
});

describe("usage and errors", () => {
  it("exits 2 with a usage line on bad usage, 1 with the error code on server errors, 0 on --help", async ({ server, cli }) => {
    const [unknownVerb, unknownNoun, unknownFlag, missingFlag, badInt, badProperty, systemTopic, systemTopicJson, unreachable, help, verbHelp, launcher] =
      await Promise.all([
        cli("topic", "frob"),
        cli("queue", "list", "--json"),
        cli("topic", "list", "--bogus"),
        cli("topic", "create"),
        cli("topic", "create", "--topic", "X", "--queues", "many"),
        cli("message", "send", "--topic", topic, "--body", "x", "--property", "novalue"),
        cli("topic", "create", "--topic", "TBW102"),
        cli("topic", "create", "--topic", "TBW102", "--json"),
        cli("topic", "list", "--endpoint", "http://127.0.0.1:1"),
        cli("--help"),
        cli("group", "reset-offset", "--help"),
        spawnCli(server.url, ["cluster", "list", "--json", "--endpoint", server.url], {
          entry: "bin/flaremq.js",
          env: { FLAREMQ_ENDPOINT: "http://127.0.0.1:1" },
        }),
      ]);
    expect(unknownVerb).toEqual({
      code: 2,
      stdout: "",
      stderr: 'error USAGE: unknown verb "frob" for "topic"\nusage: flaremq topic <create|update|delete|list|route|status> [flags]\n',
    });
    expect(unknownNoun.code).toBe(2);
    expect(JSON.parse(unknownNoun.stdout)).toEqual({ error: { code: "USAGE", message: 'unknown command "queue"' } });
    expect(unknownNoun.stderr.split("\n")[1]).toBe("usage: flaremq <topic|cluster|group|push|message|dlq|transaction|account> <verb> [flags]");
    expect([unknownFlag.code, unknownFlag.stderr]).toEqual([2, "error USAGE: unknown flag --bogus\nusage: flaremq topic list\n"]);
    expect([missingFlag.code, missingFlag.stderr]).toEqual([
      2,
      "error USAGE: missing required flag --topic\n" +
        "usage: flaremq topic create --topic T [--queues N] [--read-queues N] [--write-queues N] [--perm 6] [--brokers a,b]\n",
    ]);
    expect([badInt.code, badInt.stderr.split("\n")[0]]).toEqual([2, 'error USAGE: --queues expects an integer, got "many"']);
    expect([badProperty.code, badProperty.stderr.split("\n")[0]]).toEqual([2, 'error USAGE: --property expects key=value, got "novalue"']);
    expect(systemTopic.code).toBe(1);
    expect(systemTopic.stdout).toBe("");
    expect(systemTopic.stderr).toContain("error SYSTEM_TOPIC_FORBIDDEN: ");
    expect(systemTopicJson.code).toBe(1);
    expect(JSON.parse(systemTopicJson.stdout)).toEqual({
      error: { code: "SYSTEM_TOPIC_FORBIDDEN", message: 'topic "TBW102" is a system topic and cannot be used directly' },
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^error NETWORK_ERROR: /);
    expect(help.code).toBe(0);
    expect(help.stdout.split("\n")[0]).toBe("usage: flaremq <topic|cluster|group|push|message|dlq|transaction|account> <verb> [flags]");
    expect(verbHelp.code).toBe(0);
    expect(verbHelp.stdout.split("\n")[0]).toBe("usage: flaremq group reset-offset --group G --topic T --timestamp ms|ISO");
    // The npx launcher, with --endpoint taking precedence over $FLAREMQ_ENDPOINT.
    expect(launcher.code).toBe(0);
    expect((JSON.parse(launcher.stdout) as { brokers: { brokerName: string }[] }).brokers.map((b) => b.brokerName)).toEqual(["broker-a", "broker-b"]);
  });
});

describe("account", () => {
  it("creates, lists and deletes accounts as a signed admin; secrets never come back", async ({ launchServer }) => {
    // The first account comes from the FLAREMQ_ACCOUNTS secret: no account can be made through
    // a server without accounts (issue 12 item 3).
    const server = await launchServer({
      vars: { FLAREMQ_ACCOUNTS: JSON.stringify([{ accessKey: "root", secretKey: "root-secret-0123456789", admin: true }]) },
    });
    const run = (args: string[], env: Record<string, string> = {}) => spawnCli(server.url, [...args, "--endpoint", server.url, "--json"], { env });
    const root = { FLAREMQ_ACCESS_KEY: "root", FLAREMQ_SECRET_KEY: "root-secret-0123456789" };
    const unsignedCreate = await run(["account", "create", "--access-key", "ops", "--secret-key", "ops-secret-0123456789", "--admin"]);
    expect(unsignedCreate.code).toBe(1);
    expect(unsignedCreate.stderr).toContain("UNAUTHENTICATED");
    const created = await run(["account", "create", "--access-key", "ops", "--secret-key", "ops-secret-0123456789", "--admin"], root);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ accessKey: "ops", admin: true });
    expect(created.stdout).not.toContain("ops-secret-0123456789");
    const unsigned = await run(["topic", "list"]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain("UNAUTHENTICATED");
    // The account made through the API signs requests of its own.
    const admin = { FLAREMQ_ACCESS_KEY: "ops", FLAREMQ_SECRET_KEY: "ops-secret-0123456789" };
    const app = await run(
      ["account", "create", "--access-key", "app", "--secret-key", "app-secret-0123456789", "--topic", "T1=PUB", "--group", "G1=SUB"],
      admin,
    );
    expect(app.code).toBe(0);
    // Lists the accounts managed through the API (those of the secret are not stored).
    const list = await run(["account", "list"], admin);
    expect(JSON.parse(list.stdout).map((a: { accessKey: string }) => a.accessKey)).toEqual(["app", "ops"]);
    expect(list.stdout).not.toContain("secret");
    const denied = await run(["topic", "create", "--topic", "T9"], { FLAREMQ_ACCESS_KEY: "app", FLAREMQ_SECRET_KEY: "app-secret-0123456789" });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("ACCESS_DENIED");
    expect((await run(["account", "delete", "--access-key", "app"], admin)).code).toBe(0);
    const bad = await run(["account", "create", "--access-key", "x1", "--secret-key", "0123456789abcdef", "--topic", "T1=WRITE"], admin);
    expect(bad.code).toBe(2);
  }, 60_000);
});

describe("push subscriptions", () => {
  it("sets a webhook subscription (the secret printed once), shows it in group progress, pauses, resumes and deletes it", async ({ admin, cli, json }) => {
    const pushTopic = uniqueName("CliPush");
    const group = uniqueName("cli_push");
    await admin.createTopic(pushTopic, { queueNums: 1, brokers: ["broker-a"] });
    // Paused, so nothing is delivered to the (absent) receiver while the test looks.
    const set = await json<{ subscription: { paused: boolean; maxBatchSize: number }; secret: string }>(
      "push",
      "set",
      "--group",
      group,
      "--topic",
      pushTopic,
      "--url",
      "http://127.0.0.1:9/hook",
      "--batch-size",
      "50",
      "--paused",
    );
    expect(set.subscription).toMatchObject({ paused: true, maxBatchSize: 50 });
    expect(set.secret).toMatch(/^whsec_/);
    const [progress, shown] = await Promise.all([cli("group", "progress", "--group", group), cli("push", "show", "--group", group)]);
    expect(progress.code).toBe(0);
    expect(progress.stdout).toContain(`${pushTopic} → http://127.0.0.1:9/hook (paused)`);
    expect(shown.stdout).toContain("retry backlog");
    expect(shown.stdout).not.toContain(set.secret);
    expect((await json<{ paused: boolean }>("push", "resume", "--group", group)).paused).toBe(false);
    expect((await json<{ paused: boolean }>("push", "pause", "--group", group)).paused).toBe(true);
    expect((await cli("push", "delete", "--group", group)).code).toBe(0);
    const gone = await cli("push", "show", "--group", group);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain("PUSH_SUBSCRIPTION_NOT_FOUND");
    const bad = await cli("push", "set", "--group", group, "--topic", pushTopic, "--binding", "ACCOUNTS");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("PUSH_TARGET_NOT_ALLOWED");
  });
});

describe("message view hints", () => {
  it("a msgId without --topic gets a usage error saying to name its topic; any other id not an offsetMsgId gets the same hint", async ({
    admin,
    producer,
    cli,
  }) => {
    const hinted = uniqueName("Hint");
    await admin.createTopic(hinted, { queueNums: 1 });
    const sent = await producer.send({ topic: hinted, body: "x" });
    const [byMsgId, byJunk, withTopic] = await Promise.all([
      cli("message", "view", "--id", sent.msgId),
      cli("message", "view", "--id", "not-an-id"),
      cli("message", "view", "--id", sent.msgId, "--topic", hinted),
    ]);
    expect([byMsgId.code, byMsgId.stderr.split("\n").slice(0, 2)]).toEqual([
      2,
      [
        `error USAGE: "${sent.msgId}" is a msgId (UNIQ_KEY), which is looked up within its topic: add --topic T (only an offsetMsgId finds its message alone)`,
        "usage: flaremq message view --id ID [--topic T]",
      ],
    ]);
    expect([byJunk.code, byJunk.stderr.split("\n")[0]]).toEqual([
      2,
      `error USAGE: "not-an-id" is not an offsetMsgId of this cluster; for a msgId (UNIQ_KEY), add --topic T`,
    ]);
    expect(withTopic.code).toBe(0);
  });
});
