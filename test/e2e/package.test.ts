/**
 * The package as another project gets it: `npm pack` of the repository, installed into an empty
 * folder, used from Node (a producer, a pull consumer, the Node extras entry, `npx flaremq`
 * without tsx) and from a Worker in Miniflare (the client entry bundled for the browser
 * platform, so a Node built-in in that path fails the build), against the file's server.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { ROOT } from "../../scripts/build.js";
import { it } from "../fixture.js";
import { uniqueName } from "../helpers.js";

const run = promisify(execFile);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let work: string;
let project: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "flaremq-package-"));
  // prepack builds pkg/ from the sources first.
  const { stdout } = await run(npm, ["pack", "--pack-destination", work, "--json"], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  project = path.join(work, "app");
  await mkdir(project);
  await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await run(npm, ["install", path.join(work, filename), "--no-audit", "--no-fund", "--prefer-offline"], { cwd: project });
}, 240_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("ships compiled JavaScript and types, no TypeScript sources", async () => {
    const files = await readdir(path.join(project, "node_modules", "flaremq"), { recursive: true });
    expect(files).toContain(path.join("pkg", "client", "index.js"));
    expect(files).toContain(path.join("pkg", "client", "index.d.ts"));
    expect(files).toContain(path.join("pkg", "cli", "main.js"));
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("sends and pulls from Node, and its CLI runs without tsx", { timeout: 120_000 }, async ({ server }) => {
    const topic = uniqueName("Pkg");
    await writeFile(
      path.join(project, "app.mjs"),
      `import { Admin, Producer, PullConsumer, bodyText } from "flaremq";
import { FileOffsetStore } from "flaremq/node";
const endpoint = process.env.ENDPOINT;
const topic = process.env.TOPIC;
await new Admin({ endpoint, credentials: null }).createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
const producer = new Producer({ endpoint, credentials: null, group: "pkg_pg" });
await producer.start();
const sent = await producer.send({ topic, body: "from the package" });
const consumer = new PullConsumer({ endpoint, credentials: null, group: "pkg_cg" });
const [mq] = await consumer.fetchSubscribeMessageQueues(topic);
const pulled = await consumer.pull(mq, "*", 0, 32, { maxWaitMs: 0 });
console.log(JSON.stringify({ sendStatus: sent.sendStatus, bodies: pulled.msgFoundList.map(bodyText), fileStore: typeof FileOffsetStore }));
await producer.shutdown();
`,
    );
    const env = { ...process.env, ENDPOINT: server.url, TOPIC: topic };
    const { stdout } = await run(process.execPath, ["app.mjs"], { cwd: project, env });
    expect(JSON.parse(stdout)).toEqual({ sendStatus: "SEND_OK", bodies: ["from the package"], fileStore: "function" });

    // The bin runs the compiled CLI with plain Node: no tsx in this project.
    const cli = await run(npm, ["exec", "--", "flaremq", "topic", "list", "--endpoint", server.url, "--json"], { cwd: project, env });
    expect(JSON.parse(cli.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ topic })]));
    await expect(readdir(path.join(project, "node_modules", "tsx"))).rejects.toThrow(/ENOENT/);
  });

  it("sends from a Worker in Miniflare, bundled for the browser platform", { timeout: 120_000 }, async ({ server, admin }) => {
    const topic = uniqueName("PkgWorker");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const entry = path.join(project, "worker.mjs");
    await writeFile(
      entry,
      `import { Producer } from "flaremq";
export default {
  async fetch(request, env) {
    const producer = new Producer({ endpoint: env.ENDPOINT, credentials: null, group: "pkg_worker_pg" });
    await producer.start();
    const result = await producer.send({ topic: env.TOPIC, body: "from a Worker" });
    return Response.json({ sendStatus: result.sendStatus, queueOffset: result.queueOffset });
  },
};
`,
    );
    const bundled = await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "browser", write: false, absWorkingDir: project });
    const mf = new Miniflare({
      // Given as a module list, not a script: the client's Node-only credential lookup keeps a
      // dynamic import() that never runs in a Worker, and Miniflare's script scan refuses those.
      modules: [{ type: "ESModule", path: "worker.js", contents: bundled.outputFiles[0]!.text }],
      compatibilityDate: "2026-04-01",
      bindings: { ENDPOINT: server.url, TOPIC: topic },
    });
    try {
      const res = await mf.dispatchFetch("http://worker/");
      expect(await res.json()).toEqual({ sendStatus: "SEND_OK", queueOffset: 0 });
    } finally {
      await mf.dispose();
    }
  });
});
