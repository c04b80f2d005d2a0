/**
 * Issue 16's targets table, measured in one run and judged as ratios within it: the scenarios
 * it names (sequential single sends; 256 in flight against 8 batches of 32; draining a backlog
 * 32 per pull; a steady 1,000 msg/s to a push consumer), the baselines they are compared with
 * (no-op Worker requests: sequential, 32 in flight, and at the steady rate), what each scenario
 * costs per message and per million messages on Cloudflare's prices, and one met / not met
 * line per target. `npm run bench -- --targets-only` runs just this; the full run ends with it.
 *
 * "Today" (the issue's figures, measured before the work): 256 single sends in flight moved
 * 630 msg/s while a sequential no-op request took 1.95 ms (513 req/s), 1.23 messages per
 * sequential no-op request; draining a backlog moved 10.48× the no-op Worker request rate
 * (docs/performance.md, the run of 2026-11-26: 24,412 msg/s against 2,329 req/s, 32 in flight).
 */
import { baselineLatency, drainBacklog } from "./consume.js";
import { progressBar, runLoad, type LoadResult } from "./load.js";
import { countingFetch, startMeter, type ScenarioCost } from "./meter.js";
import { PRICES, costPerMillion } from "./prices.js";
import { singleSends, type SingleSends } from "./single-sends.js";
import { steadyRate, type SteadyRateResult } from "./steady-rate.js";

/** 256 in flight today, per sequential no-op request: 630 msg/s × 1.95 ms. */
export const TODAY_IN_FLIGHT_PER_NOOP = 630 * 0.00195;
/** Draining today, ÷ the no-op Worker request rate (32 in flight). */
export const TODAY_DRAIN_PER_NOOP = 24_412 / 2_329;

export const TARGETS = {
  sequentialVsNoop: 1.5,
  inFlightVsBatch: 0.9,
  inFlightVsToday: 10,
  drainVsToday: 1.5,
  /** "Sustained": messages received per second at least this share of the rate asked for, and every message received. */
  steadySustained: 0.95,
  steadyP50VsNoop: 2,
  steadyP99VsNoop: 5,
  steadyDollarsPerMillion: 0.3,
} as const;

export interface TargetRun {
  noopWorker: LoadResult;
  singles: SingleSends;
  drain: LoadResult;
  drainCost: ScenarioCost | null;
  noopAtRate: LoadResult;
  steady: SteadyRateResult;
  /** The same with the producer's linger (STEADY_HOLD_MS): what trading latency for rows costs. */
  steadyLinger: SteadyRateResult;
}

/** The linger of the second steady scenario. */
const STEADY_HOLD_MS = 20;

export interface TargetOptions {
  durationMs: number;
  concurrency: number;
  backlog: number;
  steadyRate: number;
  log: (line: string) => void;
}

export async function targetScenarios(endpoint: string, baselineUrl: string, o: TargetOptions): Promise<TargetRun> {
  const noop = () => fetch(`${baselineUrl}/noop`).then((r) => r.arrayBuffer().then(() => undefined));
  for (let i = 0; i < 50; i++) await noop();
  const noopWorker = await runLoad(`baseline: no-op Worker, ${o.concurrency} in flight`, o, noop, progressBar("no-op Worker"));
  const singles = await singleSends(endpoint, baselineUrl, o.durationMs);
  const consumerFetch = countingFetch();
  let finish: ((messages: number) => Promise<ScenarioCost | null>) | undefined;
  const drain = await drainBacklog(endpoint, o.backlog, o.log, {
    fetch: consumerFetch.fetch,
    upgrades: consumerFetch.count,
    beforeDrain: async () => void (finish = await startMeter(endpoint, consumerFetch.count)),
  });
  const drainCost = (await finish?.(drain.items)) ?? null;
  const noopAtRate = await baselineLatency(`${baselineUrl}/noop`, o.steadyRate, o.durationMs);
  o.log(`  steady ${o.steadyRate} msg/s for ${o.durationMs / 1000} s`);
  const steady = await steadyRate(endpoint, o.steadyRate, o.durationMs);
  o.log(`  steady ${o.steadyRate} msg/s for ${o.durationMs / 1000} s, autoBatchHoldMs ${STEADY_HOLD_MS}`);
  const steadyLinger = await steadyRate(endpoint, o.steadyRate, o.durationMs, { autoBatchHoldMs: STEADY_HOLD_MS });
  return { noopWorker, singles, drain, drainCost, noopAtRate, steady, steadyLinger };
}

const fmt = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const verdict = (met: boolean) => (met ? "MET" : "NOT MET");

/** The cost table of the targets' scenarios and one line per target. */
export function targetReport(run: TargetRun): string[] {
  const { noopWorker, singles, drain, drainCost, noopAtRate, steady, steadyLinger } = run;
  const lines = [
    "",
    `cost per message (${PRICES.source}: Worker requests $${PRICES.workerRequestsPerMillion}/M, object requests $${PRICES.objectRequestsPerMillion}/M, rows written $${PRICES.rowsWrittenPerMillion}/M, duration $${PRICES.durationPerMillionGbS}/M GB-s at ${PRICES.objectGb} GB; allowances left out):`,
    "",
    "| scenario | messages | Worker requests / msg | object requests / msg | rows written / msg (every object, slaves included) | of which queue objects | object ms awake / msg | $ / M messages | of which requests, rows, duration |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  const costRow = (name: string, c: ScenarioCost | null) => {
    if (!c) return lines.push(`| ${name} | – | – | – | – | – | – | – (server without meters) | – |`);
    const parts = costPerMillion(c);
    lines.push(
      `| ${name} | ${fmt(c.messages)} | ${fmt(c.workerRequests, 4)} | ${fmt(c.objectRequests, 4)} | ${fmt(c.rowsWritten, 4)} | ${fmt(c.queueRows, 4)} | ${fmt(c.objectSeconds * 1000, 3)} | $${fmt(c.dollarsPerMillion, 3)} | $${fmt(parts.workerRequests + parts.objectRequests, 3)}, $${fmt(parts.rowsWritten, 3)}, $${fmt(parts.duration, 3)} |`,
    );
  };
  costRow(singles.sequential.result.name, singles.sequential.cost);
  costRow(singles.inFlight.result.name, singles.inFlight.cost);
  costRow(singles.inFlightOff.result.name, singles.inFlightOff.cost);
  costRow(singles.batch.result.name, singles.batch.cost);
  costRow(`drain a backlog, 32 per pull (push consumer)`, drainCost);
  costRow(steady.name, steady.cost);
  costRow(steadyLinger.name, steadyLinger.cost);

  const seq = singles.sequential.result.p50Ms / singles.noop.p50Ms;
  const inFlightVsBatch = singles.inFlight.rate / singles.batch.rate;
  const inFlightPerNoop = singles.inFlight.rate / singles.noop.opsPerSec;
  const drainRate = drain.items / drain.seconds;
  const drainPerNoop = drainRate / noopWorker.opsPerSec;
  const sustained = steady.received === steady.sent && steady.achievedRate >= TARGETS.steadySustained * steady.targetRate;
  // A no-op baseline that fell behind the rate measured its own queueing, not a round trip.
  const baselineKept = noopAtRate.opsPerSec >= TARGETS.steadySustained * steady.targetRate;
  const latencyVerdict = (met: boolean) =>
    !baselineKept
      ? `NOT JUDGED (the no-op baseline itself ran at ${fmt(noopAtRate.opsPerSec)} req/s: the machine cannot keep this rate)`
      : verdict(met && sustained);
  const p50 = steady.p50Ms / noopAtRate.p50Ms;
  const p99 = steady.p99Ms / noopAtRate.p99Ms;
  const dollars = steady.cost?.dollarsPerMillion ?? null;
  lines.push(
    "",
    "issue 16 targets, this run:",
    `- sequential single send: p50 ${fmt(singles.sequential.result.p50Ms, 2)} ms = ${fmt(seq, 2)}× the sequential no-op Worker round trip (p50 ${fmt(singles.noop.p50Ms, 2)} ms); target ≤ ${TARGETS.sequentialVsNoop}×: ${verdict(seq <= TARGETS.sequentialVsNoop)}`,
    `- 256 single sends in flight vs batches: ${fmt(singles.inFlight.rate)} msg/s = ${fmt(inFlightVsBatch, 2)}× the batch-32 rate (${fmt(singles.batch.rate)} msg/s); target ≥ ${TARGETS.inFlightVsBatch}×: ${verdict(inFlightVsBatch >= TARGETS.inFlightVsBatch)}`,
    `- 256 single sends in flight vs today: ${fmt(inFlightPerNoop, 2)} messages per sequential no-op request (${fmt(singles.noop.opsPerSec)} req/s); today ${fmt(TODAY_IN_FLIGHT_PER_NOOP, 2)} (630 msg/s, 1.95 ms), target ≥ ${fmt(TARGETS.inFlightVsToday * TODAY_IN_FLIGHT_PER_NOOP, 2)} (${TARGETS.inFlightVsToday}×): ${verdict(inFlightPerNoop >= TARGETS.inFlightVsToday * TODAY_IN_FLIGHT_PER_NOOP)}; ${fmt(singles.inFlight.rate / singles.inFlightOff.rate, 1)}× the same sends with autoBatch off in this run`,
    `- drain, 32 per pull: ${fmt(drainRate)} msg/s = ${fmt(drainPerNoop, 2)}× the no-op Worker request rate (${fmt(noopWorker.opsPerSec)} req/s, ${noopWorker.name.split(", ")[1]}); today ${fmt(TODAY_DRAIN_PER_NOOP, 2)}×, target ≥ ${fmt(TARGETS.drainVsToday * TODAY_DRAIN_PER_NOOP, 2)}× (${TARGETS.drainVsToday}× today): ${verdict(drainPerNoop >= TARGETS.drainVsToday * TODAY_DRAIN_PER_NOOP)}`,
    `- steady ${steady.targetRate} msg/s sustained: ${fmt(steady.achievedRate)} msg/s achieved, ${fmt(steady.received)} of ${fmt(steady.sent)} received; target ≥ ${fmt(TARGETS.steadySustained * steady.targetRate)} msg/s and all received: ${verdict(sustained)}`,
    `- steady ${steady.targetRate} msg/s latency: p50 ${fmt(steady.p50Ms, 2)} ms = ${fmt(p50, 2)}× the no-op round trip at that rate (p50 ${fmt(noopAtRate.p50Ms, 2)} ms), target ≤ ${TARGETS.steadyP50VsNoop}×: ${latencyVerdict(p50 <= TARGETS.steadyP50VsNoop)}; p99 ${fmt(steady.p99Ms, 1)} ms = ${fmt(p99, 2)}× its p99 (${fmt(noopAtRate.p99Ms, 2)} ms; ${fmt(steady.p99Ms / noopAtRate.p50Ms, 1)}× its p50), target ≤ ${TARGETS.steadyP99VsNoop}×: ${latencyVerdict(p99 <= TARGETS.steadyP99VsNoop)}; p999 ${fmt(steady.p999Ms, 1)} ms`,
    dollars === null
      ? `- steady ${steady.targetRate} msg/s cost: not measured (server without meters)`
      : `- steady ${steady.targetRate} msg/s cost: $${fmt(dollars, 3)} per million messages, sent and consumed (Cloudflare Queues $${PRICES.queuesPerMillionMessages}); target ≤ $${TARGETS.steadyDollarsPerMillion}: ${verdict(dollars <= TARGETS.steadyDollarsPerMillion)}`,
    `  with autoBatchHoldMs ${STEADY_HOLD_MS}: ${steadyLinger.cost ? `$${fmt(steadyLinger.cost.dollarsPerMillion, 3)} per million messages` : "cost not measured"}, ${fmt(steadyLinger.achievedRate)} msg/s achieved, p50 ${fmt(steadyLinger.p50Ms, 1)} ms (${fmt(steadyLinger.p50Ms / noopAtRate.p50Ms, 2)}× the no-op), p99 ${fmt(steadyLinger.p99Ms, 1)} ms (${fmt(steadyLinger.p99Ms / noopAtRate.p99Ms, 2)}×)`,
  );
  return lines;
}
