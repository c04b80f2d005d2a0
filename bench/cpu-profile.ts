/**
 * CPU time of the local server split between the Worker and the Durable Objects, for the
 * capacity model (docs/performance.md): a V8 CPU profile of the workerd isolate taken through
 * its inspector (the server started with `inspectorPort`), each sample charged to the Worker or
 * to the objects by the frames on its stack: to the objects when one comes from
 * `durable-objects/` (the outermost such frame outside durable-objects/shared/ says which: a
 * queue as master, a queue as slave when it is the `replicate` call or queue/replica.ts, another
 * object), else to the Worker when one comes from `workers/`. Shared code (protocol/, cluster/)
 * and libraries (hono, zod) are charged to whichever called them; an object method resumed after
 * an await starts its stack in durable-objects/. Bundle lines are mapped to source files by the `// path` comments esbuild
 * writes before each module. Samples with neither on their stack (garbage collection, the
 * runtime's own work) are reported apart; idle samples are left out.
 */
import { readFile } from "node:fs/promises";
import { fetch as mfFetch } from "miniflare";
import { BUNDLE_PATH } from "../scripts/build.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuSplit {
  workerMs: number;
  /** Queue objects' work as masters (appends, pulls, alarms: everything but replica.ts). */
  queueMs: number;
  /** Queue objects' work as slaves (the replicate call and durable-objects/queue/replica.ts). */
  slaveMs: number;
  /** Every other object (consumer groups, brokers, NameServers...). */
  otherObjectsMs: number;
  /** Garbage collection and samples with neither Worker nor object code on their stack. */
  otherMs: number;
}

type Owner = "worker" | "queue" | "slave" | "otherObjects" | "other" | "idle";

/** Microseconds between samples: coarse enough not to load the 2-core machine. */
const SAMPLING_INTERVAL_US = 500;

/** A session with the server isolate's inspector. */
export class IsolateProfiler {
  private nextId = 0;
  private pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const m = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
      if (m.id !== undefined) {
        this.pending.get(m.id)?.(m.result);
        this.pending.delete(m.id);
      }
    });
  }

  static async connect(inspectorPort: number): Promise<IsolateProfiler> {
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { title?: string; webSocketDebuggerUrl: string }[];
    const target = targets.find((t) => String(t.title).includes("flaremq")) ?? targets[0];
    if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
    const res = await mfFetch(target.webSocketDebuggerUrl.replace(/^ws:/, "http:"), { headers: { Upgrade: "websocket" } });
    const ws = res.webSocket;
    if (!ws) throw new Error("the inspector refused the WebSocket");
    ws.accept();
    return new IsolateProfiler(ws as unknown as WebSocket);
  }

  private post<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (r: unknown) => void);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async start(): Promise<void> {
    await this.post("Profiler.enable");
    await this.post("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    await this.post("Profiler.start");
  }

  /** Stops the profile `start` began and splits its samples. */
  async stop(): Promise<CpuSplit> {
    const { profile } = await this.post<{ profile: Profile }>("Profiler.stop");
    return split(profile, await bundleModules());
  }

  /** Profiles the isolate while `run` runs; returns its result and the CPU split. */
  async profile<T>(run: () => Promise<T>): Promise<{ value: T; cpu: CpuSplit }> {
    await this.start();
    const value = await run();
    return { value, cpu: await this.stop() };
  }

  close(): void {
    this.ws.close();
  }
}

/** For each bundle line (0-based), the source module it belongs to. */
let modules: string[] | undefined;
async function bundleModules(): Promise<string[]> {
  if (modules) return modules;
  const lines = (await readFile(BUNDLE_PATH, "utf8")).split("\n");
  let current = "";
  modules = lines.map((line) => {
    const m = /^\/\/ ((?:[\w@.-]+\/)+[\w@.-]+\.[cm]?[jt]s)$/.exec(line);
    if (m) current = m[1]!;
    return current;
  });
  return modules;
}

function split(profile: Profile, lineModules: string[]): CpuSplit {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const bundle = BUNDLE_PATH.split("/").pop()!;
  const owner = new Map<number, Owner>();
  const ownerOf = (id: number): Owner => {
    const known = owner.get(id);
    if (known) return known;
    if (byId.get(id)!.callFrame.functionName === "(idle)") return "idle";
    let objectFrame: { mod: string; fn: string } | undefined;
    let worker = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!frame.url.endsWith(bundle)) continue;
      const mod = lineModules[frame.lineNumber] ?? "";
      if (mod.startsWith("durable-objects/") && !mod.startsWith("durable-objects/shared/")) objectFrame = { mod, fn: frame.functionName };
      else if (mod.startsWith("workers/")) worker = true;
    }
    const result: Owner = objectFrame
      ? objectFrame.fn === "replicate" || objectFrame.mod === "durable-objects/queue/replica.ts"
        ? "slave"
        : objectFrame.mod === "durable-objects/queue.ts" || objectFrame.mod.startsWith("durable-objects/queue/")
          ? "queue"
          : "otherObjects"
      : worker
        ? "worker"
        : "other";
    owner.set(id, result);
    return result;
  };
  const out: CpuSplit = { workerMs: 0, queueMs: 0, slaveMs: 0, otherObjectsMs: 0, otherMs: 0 };
  const key = { worker: "workerMs", queue: "queueMs", slave: "slaveMs", otherObjects: "otherObjectsMs", other: "otherMs" } as const;
  for (let i = 0; i < profile.samples.length; i++) {
    const o = ownerOf(profile.samples[i]!);
    // A sample's time is the delta that follows it.
    if (o !== "idle") out[key[o]] += (profile.timeDeltas[i + 1] ?? 0) / 1000;
  }
  return out;
}
