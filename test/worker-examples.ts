/**
 * The Workers of examples/ beside the real flaremq Worker, in one workerd (Miniflare with
 * several workers), bound as their own wrangler.toml says: the end-to-end tests of the Workers
 * RPC entrypoint (test/e2e/worker-rpc.test.ts). flaremq is the bundle test/global-setup.ts
 * builds from workers/main.ts, with every Durable Object, configured by its wrangler.toml and
 * the accounts given; each example is bundled here from its src/index.ts. Extra workers (the
 * same bundles with other binding props, or a probe script) test what a binding may do.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { build } from "esbuild";
import { Miniflare, type WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { BUNDLE_PATH, ROOT } from "../scripts/build.js";

export const EXAMPLES = {
  producer: path.join(ROOT, "examples", "producer-worker"),
  consumer: path.join(ROOT, "examples", "consumer-worker"),
} as const;

export interface AccountInput {
  accessKey: string;
  secretKey: string;
  admin?: boolean;
  topicPerms?: Record<string, string>;
  groupPerms?: Record<string, string>;
}

/** A worker besides flaremq: an example's bundle (with its own wrangler.toml) or a module script. */
export interface ExtraWorker {
  name: string;
  /** An example folder: its wrangler.toml and its src/index.ts, bundled. */
  example?: string;
  /** Or a module script. */
  script?: string;
  /** Replaces the props of the MQ binding; null drops them (a binding that names no account). */
  props?: Record<string, unknown> | null;
  /** Overrides of the example's vars. */
  vars?: Record<string, string>;
}

export interface RunningWorkers {
  /** What the workers printed (console.log) so far. */
  stdout(): string;
  /** A worker by name, to fetch or to trigger its cron (`scheduled`). */
  worker(name: string): ReturnType<Miniflare["getWorker"]>;
  stop(): Promise<void>;
}

async function bundle(example: string, outdir: string): Promise<string> {
  const outfile = path.join(outdir, `${path.basename(example)}.js`);
  await build({
    entryPoints: [path.join(example, "src", "index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  return outfile;
}

function exampleWorker(spec: ExtraWorker, scriptPath: string): WorkerOptions {
  const configPath = path.join(spec.example!, "wrangler.toml");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
  const bindings = { ...((workerOptions.bindings as Record<string, unknown> | undefined) ?? {}), ...(spec.vars ?? {}) };
  const services = { ...((workerOptions.serviceBindings as Record<string, { name: string; entrypoint?: string; props?: Record<string, unknown> }>) ?? {}) };
  const mq = services.MQ;
  const declared = unstable_readConfig({ config: configPath }, { hideWarnings: true }).services?.find((s: { binding: string }) => s.binding === "MQ") as
    { props?: Record<string, unknown> } | undefined;
  if (!mq || !declared) throw new Error(`${configPath} binds no MQ service`);
  // wrangler 4.86's unstable_getMiniflareWorkerOptions drops a service binding's props (wrangler dev
  // and deploy keep them): they come from the wrangler.toml here, unless the test replaces them.
  const props = spec.props === undefined ? declared.props : spec.props;
  const { props: _dropped, ...binding } = mq;
  services.MQ = props ? { ...binding, props } : binding;
  return {
    ...workerOptions,
    name: spec.name,
    modules: true,
    scriptPath,
    modulesRoot: path.dirname(scriptPath),
    bindings,
    serviceBindings: services,
  } as WorkerOptions;
}

/** Starts flaremq (in-memory storage) with these accounts and the extra workers bound to it. */
export async function startWithExamples(accounts: readonly AccountInput[], extras: readonly ExtraWorker[]): Promise<RunningWorkers> {
  const outdir = await mkdtemp(path.join(os.tmpdir(), "flaremq-examples-"));
  const bundles = new Map<string, string>();
  for (const example of new Set(extras.flatMap((e) => (e.example ? [e.example] : [])))) bundles.set(example, await bundle(example, outdir));
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  const flaremq = {
    ...workerOptions,
    name: "flaremq",
    modules: true,
    scriptPath: BUNDLE_PATH,
    modulesRoot: path.dirname(BUNDLE_PATH),
    bindings: {
      ...((workerOptions.bindings as Record<string, unknown> | undefined) ?? {}),
      FLAREMQ_ACCOUNTS: JSON.stringify(accounts),
      FILE_RESERVED_TIME_MS: "0",
    },
  } as WorkerOptions;
  const others = extras.map((spec): WorkerOptions => {
    if (spec.example) return exampleWorker(spec, bundles.get(spec.example)!);
    const mq = { name: "flaremq", entrypoint: "FlareMQ", ...(spec.props ? { props: spec.props } : {}) };
    return { name: spec.name, modules: true, script: spec.script ?? "", compatibilityDate: "2026-04-01", serviceBindings: { MQ: mq } } as WorkerOptions;
  });
  let printed = "";
  const mf = new Miniflare({
    workers: [flaremq, ...others],
    host: "127.0.0.1",
    port: 0,
    // The consumer example logs every order it handles: workerd's stdout is kept for the tests to
    // read rather than printed; its stderr (errors) is printed.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.setEncoding("utf8").on("data", (text: string) => (printed += text));
      stderr.pipe(process.stderr);
    },
  });
  try {
    await mf.ready;
  } catch (e) {
    await rm(outdir, { recursive: true, force: true });
    throw e;
  }
  return {
    stdout: () => printed,
    worker: (name) => mf.getWorker(name),
    stop: async () => {
      await mf.dispose();
      await rm(outdir, { recursive: true, force: true });
    },
  };
}
