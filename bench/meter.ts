/**
 * What a scenario costs in Cloudflare's billed units, read from the server under the test
 * configuration (GET /_test/activity) before and after it, plus the HTTP requests its clients
 * made (counted by their injected fetch): Worker requests, Durable Object requests (every stub
 * call, whoever makes it, plus alarm runs and WebSocket events, messages at 20:1), rows written
 * (every SQLite row of every object, slaves included, key-value keys and setAlarm calls) and
 * object wall time awake (summed over objects: what duration is billed on). Divided by the
 * messages the scenario moved, they give rows and requests per message and, with bench/prices.ts,
 * the estimated cost per million messages.
 */
import type { FetchLike } from "../client/index.js";
import { costPerMillion, type PerMessage } from "./prices.js";

interface ActivityBody {
  classes: Record<string, { busyMs: number }>;
  stubCalls?: Record<string, Record<string, number>>;
  handlerCalls?: Record<string, Record<string, number>>;
  storageWrites?: Record<string, { sqlRows: number; kvKeys: number; alarmsSet: number }>;
}

/** Totals since the server started. */
export interface ServerMeter {
  objectRequests: number;
  rowsWritten: number;
  busyMs: number;
  /** Object requests per class. */
  requestsByClass: Record<string, number>;
  /** Rows written per class. */
  rowsByClass: Record<string, number>;
  /** Replication calls (master to slave queue objects): the share of QueueDO requests a slave gets. */
  replicateCalls: number;
}

/** The server's meters, or null when it does not serve them (not under the test configuration). */
export async function readMeter(endpoint: string): Promise<ServerMeter | null> {
  const res = await fetch(`${endpoint}/_test/activity`);
  if (!res.ok) {
    await res.arrayBuffer();
    return null;
  }
  const body = (await res.json()) as ActivityBody;
  const requestsByClass: Record<string, number> = {};
  const add = (to: Record<string, number>, cls: string, n: number) => (to[cls] = (to[cls] ?? 0) + n);
  for (const [cls, methods] of Object.entries(body.stubCalls ?? {})) for (const n of Object.values(methods)) add(requestsByClass, cls, n);
  for (const [cls, calls] of Object.entries(body.handlerCalls ?? {})) {
    for (const [name, n] of Object.entries(calls)) add(requestsByClass, cls, name === "webSocketMessage" ? n / 20 : n);
  }
  const rowsByClass: Record<string, number> = {};
  for (const [cls, w] of Object.entries(body.storageWrites ?? {})) add(rowsByClass, cls, w.sqlRows + w.kvKeys + w.alarmsSet);
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    objectRequests: sum(requestsByClass),
    rowsWritten: sum(rowsByClass),
    busyMs: Object.values(body.classes).reduce((a, c) => a + c.busyMs, 0),
    requestsByClass,
    rowsByClass,
    replicateCalls: body.stubCalls?.["QueueDO"]?.["replicate"] ?? 0,
  };
}

/** A fetch that counts the HTTP requests a client makes (the Worker requests it causes). */
export function countingFetch(): { fetch: FetchLike; count: { requests: number } } {
  const count = { requests: 0 };
  return {
    fetch: (input, init) => {
      count.requests++;
      return fetch(input, init);
    },
    count,
  };
}

/** A scenario's billed units per message, and what they cost per million messages. */
export interface ScenarioCost extends PerMessage {
  messages: number;
  /** The queue objects' rows alone, per message (log, offsets, POP state, alarms), masters and slaves. */
  queueRows: number;
  /** Requests to queue objects as masters (QueueDO requests but the replication calls), per message. */
  masterQueueRequests: number;
  dollarsPerMillion: number;
}

/**
 * Starts metering: the returned `finish(messages)` reads the meters again (after `settleMs`, for
 * asynchronous replication to land: the slaves' writes count too) and divides what happened in
 * between, and the client requests counted in `workerRequests` meanwhile, by `messages`. Null
 * when the server has no meters (not under the test configuration) or nothing moved.
 */
export async function startMeter(
  endpoint: string,
  workerRequests: { readonly requests: number },
  settleMs = 500,
): Promise<(messages: number) => Promise<ScenarioCost | null>> {
  const before = await readMeter(endpoint);
  const requestsBefore = workerRequests.requests;
  return async (messages) => {
    const requests = workerRequests.requests - requestsBefore;
    await new Promise((r) => setTimeout(r, settleMs));
    const after = await readMeter(endpoint);
    if (!before || !after || messages === 0) return null;
    const per: PerMessage = {
      workerRequests: requests / messages,
      objectRequests: (after.objectRequests - before.objectRequests) / messages,
      rowsWritten: (after.rowsWritten - before.rowsWritten) / messages,
      objectSeconds: (after.busyMs - before.busyMs) / 1000 / messages,
    };
    const queueRows = ((after.rowsByClass["QueueDO"] ?? 0) - (before.rowsByClass["QueueDO"] ?? 0)) / messages;
    const queueRequests = (after.requestsByClass["QueueDO"] ?? 0) - (before.requestsByClass["QueueDO"] ?? 0);
    const masterQueueRequests = (queueRequests - (after.replicateCalls - before.replicateCalls)) / messages;
    return { ...per, messages, queueRows, masterQueueRequests, dollarsPerMillion: costPerMillion(per).total };
  };
}

/**
 * The Worker requests a producer's scenario makes: its HTTP requests (`count`) and the upgrade
 * request of every send channel it opened (a WebSocket upgrade is a Worker request; the frames
 * after it are the queue object's WebSocket messages, metered on the server at 20:1).
 */
export function producerRequests(count: { requests: number }, producer: { sendChannelStats: { opened: number } }): { readonly requests: number } {
  return {
    get requests() {
      return count.requests + producer.sendChannelStats.opened;
    },
  };
}
