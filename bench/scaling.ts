/**
 * Issue 16's scaling scenario: topics of 1, 2, 4, 8 and 16 queues (all on one broker, so a queue
 * count is the number of queue objects a send is spread over), each queue given the same load, two
 * ways: 64 single sends in flight per queue (auto-batched) and 2 batches of 32 in flight per queue.
 * Throughput grows with the queues as long as one queue object's single thread is the limit;
 * locally every object shares one workerd isolate on the machine's cores, so growth stops where
 * that isolate (and the load generator beside it) saturates the machine. Each row reports the workerd process's CPU
 * (cores busy, ms per message) and the load generator's, to show where that happens; on
 * Cloudflare each queue object has a thread of its own (docs/performance.md, capacity model).
 * Run alone with `npm run bench -- --scaling-only`.
 */
import { Admin, Producer } from "../client/index.js";
import { progressBar, runLoad } from "./load.js";
import { countingFetch, producerRequests, startMeter, type ScenarioCost } from "./meter.js";
import { processCpuMs } from "./process-cpu.js";
import { body1k } from "./backlog.js";

export const SCALING_QUEUE_COUNTS = [1, 2, 4, 8, 16] as const;

export interface ScalingRow {
  queues: number;
  workload: "single" | "batch";
  rate: number;
  p50Ms: number;
  /** Cores the server's workerd process kept busy (null when unknown). */
  serverCores: number | null;
  /** Server CPU per message, in ms (null when unknown). */
  serverCpuMsPerMessage: number | null;
  /** Cores this process (the load generator) kept busy. */
  clientCores: number;
  cost: ScenarioCost | null;
}

/** In flight per queue: the load grows with the queue count, so each queue sees the same. */
const WORKLOADS = {
  single: { label: "64 single sends in flight per queue", perQueue: 64 },
  batch: { label: "2 batches of 32 in flight per queue", perQueue: 2 },
} as const;

/** `serverPid`: the workerd process of the server at `endpoint` (bench/process-cpu.ts), or null. */
export async function scaling(endpoint: string, serverPid: number | null, durationMs: number): Promise<{ rows: ScalingRow[]; lines: string[] }> {
  const admin = new Admin({ endpoint, credentials: null });
  const rows: ScalingRow[] = [];
  for (const queues of SCALING_QUEUE_COUNTS) {
    for (const workload of ["single", "batch"] as const) {
      const topic = `BenchScale${queues}${workload}${Date.now()}`;
      await admin.createTopic(topic, { queueNums: queues, brokers: ["broker-a"] });
      const { fetch, count } = countingFetch();
      const producer = new Producer({ endpoint, credentials: null, group: "bench_scale_pg", sendMsgTimeoutMs: 30_000, maxInflightSends: 10_000, fetch });
      await producer.start();
      await Promise.all(Array.from({ length: 64 }, () => producer.send({ topic, body: body1k }))); // every queue object awake
      const { label, perQueue } = WORKLOADS[workload];
      const concurrency = perQueue * queues;
      const name = `${queues} queue${queues === 1 ? "" : "s"}: ${label}`;
      const batch = Array.from({ length: 32 }, () => ({ topic, body: body1k }));
      const finish = await startMeter(endpoint, producerRequests(count, producer), 0);
      const cpuBefore = processCpuMs(serverPid);
      const clientBefore = process.cpuUsage();
      const result = await runLoad(
        name,
        { durationMs, concurrency },
        workload === "single" ? () => producer.send({ topic, body: body1k }).then(() => undefined) : () => producer.send(batch).then(() => 32),
        progressBar(name),
      );
      const cpuAfter = processCpuMs(serverPid);
      const client = process.cpuUsage(clientBefore);
      await producer.shutdown();
      const cost = await finish(result.items);
      const wallMs = result.seconds * 1000;
      const serverMs = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
      rows.push({
        queues,
        workload,
        rate: result.items / result.seconds,
        p50Ms: result.p50Ms,
        serverCores: serverMs === null ? null : serverMs / wallMs,
        serverCpuMsPerMessage: serverMs === null ? null : serverMs / result.items,
        clientCores: (client.user + client.system) / 1000 / wallMs,
        cost,
      });
    }
  }
  return { rows, lines: scalingReport(rows) };
}

function scalingReport(rows: ScalingRow[]): string[] {
  const fmt = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const opt = (v: number | null, d: number) => (v === null ? "–" : fmt(v, d));
  const lines = [
    "",
    "| queues (one broker) | workload | messages/s | × 1 queue | p50 ms | server CPU, cores | server CPU ms / message | load generator CPU, cores | object requests / message | rows / message | $ / M messages |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const one = rows.find((x) => x.queues === 1 && x.workload === r.workload)!;
    lines.push(
      `| ${r.queues} | ${WORKLOADS[r.workload].label} | ${fmt(r.rate)} | ${fmt(r.rate / one.rate, 2)} | ${fmt(r.p50Ms, 1)} | ${opt(r.serverCores, 2)} | ${opt(r.serverCpuMsPerMessage, 3)} | ${fmt(r.clientCores, 2)} | ${r.cost ? fmt(r.cost.objectRequests, 3) : "–"} | ${r.cost ? fmt(r.cost.rowsWritten, 3) : "–"} | ${r.cost ? `$${fmt(r.cost.dollarsPerMillion, 3)}` : "–"} |`,
    );
  }
  for (const workload of ["single", "batch"] as const) {
    const series = rows.filter((r) => r.workload === workload);
    const best = series.reduce((a, b) => (b.rate > a.rate ? b : a));
    lines.push(
      `scaling, ${WORKLOADS[workload].label}: ${series.map((r) => `${r.queues} → ${fmt(r.rate)}`).join(", ")} msg/s; peak at ${best.queues} queues (${fmt(best.rate / series[0]!.rate, 2)}× one queue), server ${opt(best.serverCores, 2)} cores busy + load generator ${fmt(best.clientCores, 2)}`,
    );
  }
  return lines;
}
