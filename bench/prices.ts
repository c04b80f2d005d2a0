/**
 * Cloudflare's published unit prices (Workers Paid, beyond the included amounts), for the
 * benchmark's estimated cost per million messages. Source: /work/shared/reference/cloudflare.md
 * §2.1 (Workers Standard pricing) and §4.3–4.4 (Queues, Durable Objects pricing), a digest of
 * Cloudflare's pricing pages (durable-objects-pricing.mdx@07e200b7, queues_pricing.mdx@d1b4c276)
 * as of 2026-08; copied here 2026-12-06. Marginal prices only: the monthly allowances (10 M
 * Worker requests, 1 M object requests, 50 M rows written, 400,000 GB-s) are left out, so the
 * figures are what each further million messages costs.
 */

export const PRICES = {
  /** Workers Standard: $ per million requests. */
  workerRequestsPerMillion: 0.3,
  /** Durable Objects: $ per million requests (each RPC call, fetch, alarm run; WebSocket messages at 20:1). */
  objectRequestsPerMillion: 0.15,
  /** Durable Objects SQLite: $ per million rows written (setAlarm and key-value puts count as rows). */
  rowsWrittenPerMillion: 1.0,
  /** Durable Objects duration: $ per million GB-s, billed at 128 MB per awake object. */
  durationPerMillionGbS: 12.5,
  /** GB billed per awake object. */
  objectGb: 0.128,
  /** Cloudflare Queues: $ per million messages (write, read, delete: 3 operations at $0.40 per million). */
  queuesPerMillionMessages: 1.2,
  /** Where the figures come from, printed with them. */
  source: "Cloudflare Workers and Durable Objects pricing as of 2026-08 (/work/shared/reference/cloudflare.md §2.1, §4.4)",
} as const;

/** What one message costs in each billed unit, averaged over a scenario. */
export interface PerMessage {
  workerRequests: number;
  objectRequests: number;
  rowsWritten: number;
  /** Object wall time awake, summed over objects, in seconds. */
  objectSeconds: number;
}

/** Estimated dollars per million messages, in total and per meter. */
export function costPerMillion(m: PerMessage): { total: number; workerRequests: number; objectRequests: number; rowsWritten: number; duration: number } {
  const workerRequests = m.workerRequests * PRICES.workerRequestsPerMillion;
  const objectRequests = m.objectRequests * PRICES.objectRequestsPerMillion;
  const rowsWritten = m.rowsWritten * PRICES.rowsWrittenPerMillion;
  const duration = m.objectSeconds * PRICES.objectGb * PRICES.durationPerMillionGbS;
  return { total: workerRequests + objectRequests + rowsWritten + duration, workerRequests, objectRequests, rowsWritten, duration };
}
