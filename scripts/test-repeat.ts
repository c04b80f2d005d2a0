/**
 * `npm run test:repeat -- --times 5 [--project e2e] [--busy] [vitest filters...]`: runs the
 * suite (or one project, or some files) N times in a row and prints every failure with its
 * test and first message line, so a flaky test is found in one command. `--busy` keeps one
 * core spinning in another process meanwhile, as on a shared CI machine.
 * Exits non-zero when any run failed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./build.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    times: { type: "string", default: "5" },
    project: { type: "string", multiple: true },
    busy: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("usage: npm run test:repeat -- [--times 5] [--project e2e]... [--busy] [test files or filters]");
  process.exit(0);
}
const times = Number(values.times);
if (!Number.isInteger(times) || times < 1) {
  console.error(`--times must be a positive integer, got "${values.times}"`);
  process.exit(2);
}

/** The part of vitest's JSON report this script reads. */
interface JsonReport {
  numFailedTests: number;
  numTotalTests: number;
  testResults: { name: string; message?: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

interface Failure {
  run: number;
  file: string;
  test: string;
  message: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

/** A process that keeps one core busy until killed. */
function busyCore(): ChildProcess {
  return spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" });
}

const busy = values.busy ? busyCore() : undefined;
const failures: Failure[] = [];
const workDir = await mkdtemp(path.join(os.tmpdir(), "flaremq-repeat-"));
let failedRuns = 0;
try {
  for (let i = 1; i <= times; i++) {
    const report = path.join(workDir, `run-${i}.json`);
    const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
    for (const p of values.project ?? []) args.push("--project", p);
    args.push(...positionals);
    // An empty HOME: no run may depend on what else ran on this machine.
    const home = await mkdtemp(path.join(workDir, "home-"));
    const started = Date.now();
    const code = await run("npx", args, { ...process.env, HOME: home });
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    let parsed: JsonReport | undefined;
    try {
      parsed = JSON.parse(await readFile(report, "utf8")) as JsonReport;
    } catch {
      // no report: vitest itself failed before running tests
    }
    const before = failures.length;
    for (const file of parsed?.testResults ?? []) {
      const rel = path.relative(ROOT, file.name);
      for (const t of file.assertionResults) {
        if (t.status === "failed") failures.push({ run: i, file: rel, test: t.fullName, message: firstLine(t.failureMessages[0] ?? "") });
      }
      // A file that failed outside any test (a hook, an import) has no failed assertion.
      if (file.message && !file.assertionResults.some((t) => t.status === "failed"))
        failures.push({ run: i, file: rel, test: "(file)", message: firstLine(file.message) });
    }
    if (code !== 0 && failures.length === before) failures.push({ run: i, file: "-", test: "(vitest)", message: `exit code ${code}, no report` });
    if (code !== 0) failedRuns++;
    console.log(`\n=== run ${i}/${times}: ${code === 0 ? "green" : "RED"} in ${seconds} s (${parsed?.numTotalTests ?? "?"} tests)\n`);
  }
} finally {
  busy?.kill();
  await rm(workDir, { recursive: true, force: true });
}

console.log(`\n${times - failedRuns} of ${times} runs green${values.busy ? " (one core kept busy)" : ""}`);
for (const f of failures) console.log(`run ${f.run}: ${f.file} > ${f.test}\n    ${f.message}`);
process.exit(failedRuns === 0 ? 0 : 1);

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? ""
  );
}
