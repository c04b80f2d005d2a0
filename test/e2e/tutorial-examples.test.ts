/**
 * Every example of examples/tutorial/ runs against a real local server, as a child process, and
 * prints what it shows; each test checks one example's output for its semantics. The examples
 * get FLAREMQ_ENDPOINT and the server's credentials in FLAREMQ_ACCESS_KEY / FLAREMQ_SECRET_KEY,
 * as users of `npm start` give theirs, and use topics and groups of their own, so they run at
 * once: three at a time, as workerd runs every object of the server on one thread and a fourth
 * starved it past the client's 3 s send timeout on a loaded 2-core machine.
 *
 * - One runs exactly as examples/README.md says: `npx tsx producer-sync.ts` in its folder, where
 *   tsconfig.json maps "flaremq" to the client's sources.
 * - The others run as one esbuild bundle each, resolved through that same tsconfig.json, with
 *   plain `node`: a Node process loading the client through tsx spends about 0.7 s of CPU on it,
 *   from a bundle 0.1 s (measured; the file took 61 s under tsx and 34-49 s so, on 2 cores at a
 *   load average of 10-13). The types are checked by `npm run typecheck`.
 * - A new example file without a test here, or missing from examples/README.md, fails the first test.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, onTestFailed } from "vitest";
import { ROOT as REPO } from "../../scripts/build.js";
import { ROOT } from "../auth-helpers.js";
import { it, test } from "../fixture.js";
import { waitFor } from "../helpers.js";
import { Semaphore } from "../../client/concurrency.js";
import { Admin } from "../../client/index.js";

const TUTORIAL = path.join(REPO, "examples", "tutorial");
/** Started in this order: those that wait longest (for check-backs, delays) first. */
const EXAMPLES = [
  "transaction",
  "delayed",
  "producer-sync",
  "ordered",
  "broadcast",
  "push-consumer",
  "filter-tag",
  "filter-sql",
  "lite-pull-subscribe",
  "lite-pull-assign",
  "pull-consumer",
  "batch",
  "producer-async",
  "producer-oneway",
] as const;
type Example = (typeof EXAMPLES)[number];
/** The one run with tsx, as a user runs it. */
const WITH_TSX: Example = "producer-sync";
/** Examples running at once beside the server (see above). */
const CONCURRENCY = 3;

// A server with an account, so the examples sign their requests with what the environment gives.
test.override("serverOptions", { vars: { FLAREMQ_ACCOUNTS: JSON.stringify([{ ...ROOT, admin: true }]) }, credentials: ROOT });

interface Run {
  stdout: string;
  lines: string[];
}

function run(name: Example, file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: TUTORIAL, env, timeout: 90_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name}.ts failed (${error.message})\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      else resolve({ stdout, lines: stdout.split("\n").filter((l) => l.length > 0) });
    });
  });
}

/** The topic an example uses: its `const topic = "..."` line. */
async function topicOf(name: Example): Promise<string> {
  const source = await readFile(path.join(TUTORIAL, `${name}.ts`), "utf8");
  const topic = /^const topic = "(\w+)";$/m.exec(source)?.[1];
  if (!topic) throw new Error(`${name}.ts: no \`const topic = "..."\` line`);
  return topic;
}

const runs = new Map<Example, Promise<Run>>();
let bundles: string | undefined;

test.beforeAll(async ({ server }) => {
  bundles = await mkdtemp(path.join(os.tmpdir(), "flaremq-tutorial-"));
  await build({
    entryPoints: EXAMPLES.filter((name) => name !== WITH_TSX).map((name) => path.join(TUTORIAL, `${name}.ts`)),
    absWorkingDir: TUTORIAL,
    tsconfig: path.join(TUTORIAL, "tsconfig.json"), // "flaremq" -> the client's sources, as tsx resolves it
    outdir: bundles,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true, // the client once, in a chunk every example loads
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
  });
  // The examples leave their topics to the server's auto-create (on in `npm start`, as in
  // RocketMQ's own examples): a first send creates the topic, several admin writes that can
  // outlast the client's 3 s send timeout on a loaded machine. Created here first, patiently,
  // the examples run against a warm server, as a second run does.
  const patient = new Admin({ endpoint: server.url, credentials: ROOT, requestTimeoutMs: 30_000 });
  await Promise.all(EXAMPLES.map(async (name) => patient.createTopic(await topicOf(name), { queueNums: 4 })));
  const env = { ...process.env, FLAREMQ_ENDPOINT: server.url, FLAREMQ_ACCESS_KEY: ROOT.accessKey, FLAREMQ_SECRET_KEY: ROOT.secretKey };
  const npx = process.platform === "win32" ? "npx.cmd" : "npx";
  const slots = new Semaphore(CONCURRENCY);
  for (const name of EXAMPLES) {
    const start = (): Promise<Run> =>
      name === WITH_TSX ? run(name, npx, ["tsx", `${name}.ts`], env) : run(name, process.execPath, [path.join(bundles!, `${name}.mjs`)], env);
    const result = slots.acquire().then(() => start().finally(() => slots.release()));
    result.catch(() => undefined); // its test reports the failure
    runs.set(name, result);
  }
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(runs.values());
  if (bundles) await rm(bundles, { recursive: true, force: true });
});

/** The `key=value` and `key="quoted value"` fields of a printed line. */
function fields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) out[m[1]!] = m[2] ?? m[3]!;
  return out;
}

interface Output extends Run {
  /** The fields of the lines that start with `prefix`, in printed order. */
  printed: (prefix: string) => Record<string, string>[];
}

const watched = new Set<string>();

/** What an example printed; a failing test shows it in full. */
async function output(name: Example): Promise<Output> {
  const run = await runs.get(name)!;
  const key = `${expect.getState().currentTestName}\u0000${name}`;
  if (!watched.has(key)) {
    watched.add(key);
    onTestFailed(() => console.log(`${name}.ts printed:\n${run.stdout}`));
  }
  return { ...run, printed: (prefix) => run.lines.filter((l) => l.startsWith(prefix)).map(fields) };
}

async function storedCount(admin: Admin, topic: string): Promise<number> {
  const { queues } = await admin.topicStatus(topic);
  return queues.reduce((n, q) => n + q.maxOffset - q.minOffset, 0);
}

const hello = (n: number, text = "Hello RocketMQ"): string[] => Array.from({ length: n }, (_, i) => `${text} ${i}`);
const sorted = (values: string[]): string[] => [...values].sort();

describe("examples/tutorial", () => {
  it("has a test for every example file, each with a one-line header, each named in examples/README.md", async () => {
    const files = (await readdir(TUTORIAL)).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -".ts".length));
    expect(files.sort()).toEqual([...EXAMPLES].sort());
    const readme = await readFile(path.join(REPO, "examples", "README.md"), "utf8");
    for (const name of files) {
      expect(readme).toContain(`[tutorial/${name}.ts](tutorial/${name}.ts)`);
      const [header] = (await readFile(path.join(TUTORIAL, `${name}.ts`), "utf8")).split("\n");
      expect(header).toMatch(/^\/\*\* \S.* \*\/$/);
    }
  });

  it("producer-sync: ten SEND_OK results, each stored", async ({ admin }) => {
    const sent = (await output("producer-sync")).printed("SEND_OK ");
    expect(sent).toHaveLength(10);
    expect(new Set(sent.map((s) => s.msgId)).size).toBe(10);
    for (const s of sent)
      expect(await admin.viewMessageById(await topicOf("producer-sync"), s.msgId!)).toMatchObject({ queueOffset: Number(s.offset), tags: "TagA" });
    expect(await storedCount(admin, await topicOf("producer-sync"))).toBe(10);
  });

  it("producer-async: every callback reports SEND_OK once, each stored", async ({ admin }) => {
    const sent = (await output("producer-async")).printed("SEND_OK ");
    expect(sorted(sent.map((s) => s.index!))).toEqual(sorted(Array.from({ length: 10 }, (_, i) => String(i))));
    expect(await storedCount(admin, await topicOf("producer-async"))).toBe(10);
  });

  it("producer-oneway: ten oneway sends, all stored", async ({ admin }) => {
    expect((await output("producer-oneway")).printed("sent oneway ")).toHaveLength(10);
    // A oneway send is answered before its write: the last ones may still be landing.
    await waitFor("ten oneway messages stored", async () => (await storedCount(admin, await topicOf("producer-oneway"))) === 10);
  });

  it("push-consumer: receives each of its ten messages once", async () => {
    const received = (await output("push-consumer")).printed("received ");
    expect(sorted(received.map((r) => r.body!))).toEqual(sorted(hello(10)));
    expect(received.every((r) => r.tag === "TagA")).toBe(true);
  });

  it("pull-consumer: pulls each message once, queue by queue, until every queue has no new message", async () => {
    const { lines } = await output("pull-consumer");
    expect(sorted((await output("pull-consumer")).printed("received ").map((r) => r.body!))).toEqual(sorted(hello(10)));
    expect(lines.filter((l) => l.startsWith("NO_NEW_MSG "))).toHaveLength(8); // 4 queues on each of 2 brokers
    expect(lines.at(-1)).toBe("pulled 10 messages");
  });

  it("lite-pull-subscribe: polls each of its ten messages once", async () => {
    expect(sorted((await output("lite-pull-subscribe")).printed("received ").map((r) => r.body!))).toEqual(sorted(hello(10)));
  });

  it("lite-pull-assign: reads only the queues it assigned itself, from where it seeks, every message sent to them", async () => {
    const { lines, printed } = await output("lite-pull-assign");
    const header = /^assigned (.+); sent 16 messages, (\d+) to them$/.exec(lines[0] ?? "");
    const assigned = header?.[1]?.split(" ");
    expect(assigned).toEqual(["broker-a:0", "broker-a:1", "broker-a:2", "broker-a:3"]); // the first half of 8 queues
    const received = printed("received ");
    expect(received).toHaveLength(Number(header?.[2]));
    expect(new Set(received.map((r) => r.msgId)).size).toBe(received.length);
    expect(received.length).toBeGreaterThan(0);
    for (const r of received) expect(assigned).toContain(r.queue);
  });

  it("ordered: each order's steps share one queue and are consumed in the order sent", async () => {
    const sent = (await output("ordered")).printed("SEND_OK ");
    const received = (await output("ordered")).printed("received ");
    expect(received).toHaveLength(sent.length);
    const stepsOf = (lines: Record<string, string>[], order: string) => lines.filter((l) => l.order === order).map((l) => l.step);
    const orders = [...new Set(sent.map((s) => s.order!))];
    expect(orders).toHaveLength(3);
    for (const order of orders) {
      expect(new Set(sent.filter((s) => s.order === order).map((s) => s.queue)).size).toBe(1);
      expect(stepsOf(received, order)).toEqual(stepsOf(sent, order));
    }
  });

  it("delayed: each message arrives no sooner than its level's 1 s after it was sent", async () => {
    const sent = (await output("delayed")).printed("SEND_OK ");
    expect(sent).toHaveLength(5);
    expect(sent.every((s) => s.offset === "-1" && s.level === "1")).toBe(true); // no queue offset until due
    const received = (await output("delayed")).printed("received ");
    expect(sorted(received.map((r) => r.msgId!))).toEqual(sorted(sent.map((s) => s.msgId!)));
    for (const r of received) expect(Number(r.delayMs)).toBeGreaterThanOrEqual(1000);
  });

  it("batch: a batch of three with consecutive offsets, then a list of 2,500 split under the 1,024-message cap", async ({ admin }) => {
    const batches = (await output("batch")).printed("SEND_OK ");
    expect(batches.map((b) => Number(b.batch))).toEqual([3, 1024, 1024, 452]);
    const ids = batches[0]!.msgIds!.split(",");
    expect(ids).toHaveLength(3);
    const [broker, queueId] = batches[0]!.queue!.split(":");
    const offset = Number(batches[0]!.offset);
    for (const [i, id] of ids.entries()) {
      expect(await admin.viewMessageById(await topicOf("batch"), id)).toMatchObject({ brokerName: broker, queueId: Number(queueId), queueOffset: offset + i });
    }
    expect(await storedCount(admin, await topicOf("batch"))).toBe(2503);
  });

  it("filter-tag: receives the TagA and TagC messages and no TagB", async () => {
    const received = (await output("filter-tag")).printed("received ");
    expect(sorted(received.map((r) => r.tag!))).toEqual(sorted([...Array<string>(5).fill("TagA"), ...Array<string>(5).fill("TagC")]));
    const bodies = (await output("filter-tag")).printed("SEND_OK ").flatMap((s, i) => (s.tag === "TagB" ? [] : [`Hello world ${i}`]));
    expect(sorted(received.map((r) => r.body!))).toEqual(sorted(bodies));
  });

  it("filter-sql: receives only TagA or TagB messages with a between 0 and 3", async () => {
    const received = (await output("filter-sql")).printed("received ");
    expect(sorted(received.map((r) => `${r.tag} a=${r.a}`))).toEqual(["TagA a=0", "TagA a=3", "TagB a=1"]);
  });

  it("transaction: commits at send and on check-back are delivered, rollbacks never; each open one is checked", async () => {
    const indexOf = (key: string): number => Number(key.split("-").at(-1));
    const sent = (await output("transaction")).printed("SEND_OK ");
    expect(sent.map((s) => [indexOf(s.key!), s.local])).toEqual([
      [0, "COMMIT_MESSAGE"],
      [1, "ROLLBACK_MESSAGE"],
      [2, "UNKNOW"],
      [3, "UNKNOW"],
      [4, "COMMIT_MESSAGE"],
      [5, "ROLLBACK_MESSAGE"],
      [6, "UNKNOW"],
      [7, "UNKNOW"],
    ]);
    const { lines } = await output("transaction");
    const checks = new Map(lines.filter((l) => l.startsWith("check ")).map((l) => [indexOf(fields(l).key!), l.split(" -> ")[1]]));
    expect([...checks].sort()).toEqual([
      [2, "COMMIT_MESSAGE"],
      [3, "ROLLBACK_MESSAGE"],
      [6, "COMMIT_MESSAGE"],
      [7, "ROLLBACK_MESSAGE"],
    ]);
    const received = (await output("transaction")).printed("received ");
    expect(received.map((r) => indexOf(r.key!)).sort()).toEqual([0, 2, 4, 6]);
  });

  it("broadcast: both members of the group receive all five messages", async () => {
    for (const member of ["consumer-1", "consumer-2"]) {
      const received = (await output("broadcast")).printed(`${member} received `);
      expect(sorted(received.map((r) => r.body!))).toEqual(sorted(hello(5)));
    }
  });
});
