/**
 * The measured inputs of the capacity model (docs/performance.md, "Capacity on Cloudflare"):
 * for each way of moving messages, the CPU the Worker spends per request and the CPU the queue
 * objects spend per message (bench/cpu-profile.ts: a V8 profile of the server isolate through its
 * inspector), with the requests and rows per message from the server's meters (bench/meter.ts).
 *
 * The profile's samples are taken in wall time and workerd does not tell V8 when it is idle, so
 * the profile gives shares, not CPU: the CPU figures are the workerd process's CPU time (from
 * /proc) over the scenario, split in the shares of the samples that ran Worker or object code
 * (the runtime's own work, HTTP parsing and RPC framing, is charged in the same shares).
 * Locally every object shares one thread; on Cloudflare each queue object has its own and the
 * Worker runs on as many isolates as it has requests, so the figures project to:
 * - one queue (its master object): the lower of 1,000 ms of CPU a second ÷ its CPU per message
 *   and 1,000 requests a second (the soft limit) ÷ its requests per message;
 * - a topic of N queues: N times that, as long as producers spread over the queues;
 * - a deployment: topics × queues; the Worker scales out and bounds only each request's CPU.
 * Run alone with `npm run bench -- --capacity-only`.
 */
import { Admin, Producer } from "../client/index.js";
import { drainBacklog } from "./consume.js";
import { IsolateProfiler, type CpuSplit } from "./cpu-profile.js";
import { progressBar, runLoad } from "./load.js";
import { countingFetch, producerRequests, startMeter, type ScenarioCost } from "./meter.js";
import { processCpuMs } from "./process-cpu.js";
import { readQueuesOf } from "./topic-queues.js";
import { body1k } from "./backlog.js";

/** Cloudflare's soft limit on one object's request rate. */
const OBJECT_REQUESTS_PER_S = 1000;

export interface CapacityRow {
  name: string;
  /** Bytes of SQLite storage per stored message over the scenario topic's master queues (send scenarios). */
  storageBytesPerMessage: number | null;
  rate: number;
  messages: number;
  cpu: CpuSplit;
  /** The workerd process's CPU over the scenario (the isolate's plus the runtime's I/O and SQLite threads), ms. */
  processMs: number | null;
  cost: ScenarioCost | null;
}

export async function capacity(
  endpoint: string,
  inspectorPort: number,
  serverPid: number | null,
  o: { durationMs: number; backlog: number; log: (line: string) => void },
): Promise<{ rows: CapacityRow[]; lines: string[] }> {
  const profiler = await IsolateProfiler.connect(inspectorPort);
  const admin = new Admin({ endpoint, credentials: null });
  const rows: CapacityRow[] = [];
  try {
    const sends = [
      { name: "single sends, one per request (autoBatch off, 32 callers)", concurrency: 32, autoBatch: false, batch: 1 },
      { name: "256 single sends in flight, auto-batched", concurrency: 256, autoBatch: true, batch: 1 },
      { name: "batch sends of 32, 8 in flight", concurrency: 8, autoBatch: true, batch: 32 },
    ];
    for (const s of sends) {
      const topic = `BenchCapacity${Date.now()}`;
      await admin.createTopic(topic, { queueNums: 4 }); // 8 queues over 2 brokers
      const { fetch, count } = countingFetch();
      const producer = new Producer({
        endpoint,
        credentials: null,
        group: "bench_capacity_pg",
        autoBatch: s.autoBatch,
        maxInflightSends: 1000,
        sendMsgTimeoutMs: 30_000,
        fetch,
      });
      await producer.start();
      await Promise.all(Array.from({ length: 64 }, () => producer.send({ topic, body: body1k })));
      const batch = Array.from({ length: s.batch }, () => ({ topic, body: body1k }));
      const finish = await startMeter(endpoint, producerRequests(count, producer), 0);
      const cpuBefore = processCpuMs(serverPid);
      const { value: result, cpu } = await profiler.profile(() =>
        runLoad(
          s.name,
          { durationMs: o.durationMs, concurrency: s.concurrency },
          s.batch === 1 ? () => producer.send({ topic, body: body1k }).then(() => undefined) : () => producer.send(batch).then(() => s.batch),
          progressBar(s.name),
        ),
      );
      const cpuAfter = processCpuMs(serverPid);
      await producer.shutdown();
      let bytes = 0;
      let stored = 0;
      for (const mq of readQueuesOf(await admin.topicRoute(topic), topic)) {
        const stats = await admin.queueStats(mq);
        bytes += stats.storageBytes;
        stored += stats.maxOffset - stats.minOffset;
      }
      rows.push({
        name: s.name,
        storageBytesPerMessage: stored > 0 ? bytes / stored : null,
        rate: result.items / result.seconds,
        messages: result.items,
        cpu,
        processMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
        cost: await finish(result.items),
      });
    }
    const { fetch, count } = countingFetch();
    let finish: ((messages: number) => Promise<ScenarioCost | null>) | undefined;
    let cpuBefore: number | null = null;
    const drain = await drainBacklog(endpoint, o.backlog, o.log, {
      fetch,
      beforeDrain: async () => {
        finish = await startMeter(endpoint, count, 0);
        await profiler.start();
        cpuBefore = processCpuMs(serverPid);
      },
    });
    const cpuAfter = processCpuMs(serverPid);
    const cpu = await profiler.stop();
    rows.push({
      name: "drain a backlog, 32 per pull (push consumer)",
      storageBytesPerMessage: null,
      rate: drain.items / drain.seconds,
      messages: drain.items,
      cpu,
      processMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
      cost: (await finish?.(drain.items)) ?? null,
    });
  } finally {
    profiler.close();
  }
  return { rows, lines: capacityReport(rows) };
}

/** CPU ms per message of each part: the process's CPU in the profile's shares (the profile's own ms when the process is unknown). */
export function cpuPerMessage(r: CapacityRow): { worker: number; queue: number; slave: number; otherObjects: number; measured: boolean } {
  const { workerMs, queueMs, slaveMs, otherObjectsMs } = r.cpu;
  const attributed = workerMs + queueMs + slaveMs + otherObjectsMs;
  const scale = r.processMs !== null && attributed > 0 ? r.processMs / attributed : 1;
  const per = (ms: number) => (ms * scale) / r.messages;
  return { worker: per(workerMs), queue: per(queueMs), slave: per(slaveMs), otherObjects: per(otherObjectsMs), measured: r.processMs !== null };
}

function capacityReport(rows: CapacityRow[]): string[] {
  const fmt = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const pct = (part: number, r: CapacityRow) => {
    const { workerMs, queueMs, slaveMs, otherObjectsMs } = r.cpu;
    return `${fmt((100 * part) / (workerMs + queueMs + slaveMs + otherObjectsMs || 1))} %`;
  };
  const lines = [
    "",
    "| scenario | messages/s | server CPU ms / msg (workerd process) | Worker requests / msg | Worker CPU ms / request | queue master CPU ms / msg | slave CPU ms / msg | other objects CPU ms / msg | profile shares: Worker, master, slave, others | master queue requests / msg | rows / msg |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
  ];
  for (const r of rows) {
    const c = cpuPerMessage(r);
    const workerRequestsPerMessage = r.cost?.workerRequests ?? null;
    lines.push(
      `| ${r.name} | ${fmt(r.rate)} | ${r.processMs === null ? "–" : fmt(r.processMs / r.messages, 4)} | ${workerRequestsPerMessage === null ? "–" : fmt(workerRequestsPerMessage, 4)} | ${workerRequestsPerMessage ? fmt(c.worker / workerRequestsPerMessage, 3) : "–"} | ${fmt(c.queue, 4)} | ${fmt(c.slave, 4)} | ${fmt(c.otherObjects, 4)} | ${pct(r.cpu.workerMs, r)}, ${pct(r.cpu.queueMs, r)}, ${pct(r.cpu.slaveMs, r)}, ${pct(r.cpu.otherObjectsMs, r)} | ${r.cost ? fmt(r.cost.masterQueueRequests, 4) : "–"} | ${r.cost ? fmt(r.cost.rowsWritten, 4) : "–"} |`,
    );
  }
  if (rows.some((r) => r.processMs === null))
    lines.push("(no process CPU on this system: the CPU columns are the profile's wall-clock samples, an upper bound)");
  for (const r of rows) {
    if (r.storageBytesPerMessage !== null) lines.push(`storage, ${r.name}: ${fmt(r.storageBytesPerMessage)} bytes of SQLite database per stored 1 KiB message`);
  }
  lines.push("", "projected ceilings of one queue (its master object on a thread of its own; measured figures above):");
  for (const r of rows) {
    if (!r.cost) continue;
    const cpuBound = 1000 / cpuPerMessage(r).queue;
    const requestBound = OBJECT_REQUESTS_PER_S / r.cost.masterQueueRequests;
    lines.push(
      `- ${r.name}: CPU-bound at ${fmt(cpuBound)} msg/s, request-bound at ${fmt(requestBound)} msg/s (${fmt(OBJECT_REQUESTS_PER_S)} req/s ÷ ${fmt(r.cost.masterQueueRequests, 4)}): one queue ≈ ${fmt(Math.min(cpuBound, requestBound))} msg/s`,
    );
  }
  return lines;
}
