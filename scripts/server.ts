/**
 * Runs the whole system (routing worker, broker shards, every Durable Object) in workerd
 * through Miniflare, without wrangler dev's reload proxy, with Durable Object storage on disk.
 * Used by `npm start`, the end-to-end tests and the benchmark.
 */
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { buildWorker, BUNDLE_PATH, ROOT } from "./build.js";

export interface ServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 8787. */
  port?: number;
  host?: string;
  /** Folder for Durable Object storage; survives restarts. */
  stateDir: string;
  /**
   * Overrides of wrangler.toml [vars], e.g. AUTO_CREATE_TOPIC_ENABLE for a test. This local
   * runner adds ALLOW_UNAUTHENTICATED_LOCAL="true" when it binds a loopback address (a server
   * without accounts stays open to loopback clients, as tests and the benchmark expect); pass
   * "false" to see what a deployed Worker does without accounts.
   */
  vars?: Record<string, string>;
  /** Skip the build when the caller already built the bundle. */
  skipBuild?: boolean;
  /** Opens workerd's V8 inspector on this port (the benchmark's CPU profile); closed when unset. */
  inspectorPort?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!options.skipBuild) await buildWorker();
  await mkdir(options.stateDir, { recursive: true });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  const mf = new Miniflare({
    ...workerOptions,
    name: "flaremq",
    modules: true,
    scriptPath: BUNDLE_PATH,
    modulesRoot: path.dirname(BUNDLE_PATH),
    bindings: {
      // wrangler's types give these (the vars of wrangler.toml) as `any`.
      ...((workerOptions.bindings as Record<string, unknown> | undefined) ?? {}),
      // Open without accounts only when bound to loopback: the Worker checks the Host header,
      // which a remote client reaching a server bound to 0.0.0.0 could set to "localhost".
      ALLOW_UNAUTHENTICATED_LOCAL: String(isLoopbackHost(options.host ?? "127.0.0.1")),
      // A local server's push webhooks may target a receiver on this machine over plain http.
      PUSH_LOOPBACK_WEBHOOKS: "true",
      ...(options.vars ?? {}),
    },
    durableObjectsPersist: path.join(options.stateDir, "do"),
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 8787,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = await mf.ready;
  return {
    url: url.origin,
    port: Number(url.port),
    stop: () => mf.dispose(),
  };
}

function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}
