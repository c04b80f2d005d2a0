/**
 * Progress of fan-out operations on stderr, only when stderr is a terminal, redrawn in place
 * and erased when the operation ends:
 * - fan-outs the client makes itself (one request per queue) show real progress,
 *   `querying 8/16 queues`, counted from the queue-level requests the CLI's fetch sees;
 * - fan-outs the server makes in one request (topic status, query by key, DLQ resend) cannot
 *   be counted from here, so they show what is being done and the time it has taken.
 */
import type { FetchLike } from "../client/index.js";

/** A queue-level request: `/brokers/:broker/topics/:topic/queues/:queueId/...`. */
const QUEUE_REQUEST = /^\/brokers\/[^/]+\/topics\/[^/]+\/queues\/\d+(\/|$)/;
const REDRAW_MS = 200;

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private completed = 0;
  private redraw: (() => void) | undefined;
  readonly enabled: boolean;

  constructor(private readonly stream: ProgressStream) {
    this.enabled = stream.isTTY === true;
  }

  /** A fetch that counts finished queue-level requests (failed ones too: they are done). */
  wrap(inner: FetchLike): FetchLike {
    return async (input, init) => {
      try {
        return await inner(input, init);
      } finally {
        if (QUEUE_REQUEST.test(new URL(input).pathname)) {
          this.completed++;
          this.redraw?.();
        }
      }
    };
  }

  /** Work that makes one request per queue: `<label> <done>/<total> queues`. */
  perQueue<T>(label: string, total: () => Promise<number>, work: () => Promise<T>): Promise<T> {
    const start = this.completed;
    return this.show(async () => {
      const n = await total();
      return () => `${label} ${Math.min(this.completed - start, n)}/${n} queues`;
    }, work);
  }

  /** Work the server fans out in one request: `<label>… 2.4s`. */
  serverSide<T>(label: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    return this.show(async () => () => `${label}… ${((Date.now() - started) / 1000).toFixed(1)}s`, work);
  }

  private async show<T>(prepare: () => Promise<() => string>, work: () => Promise<T>): Promise<T> {
    if (!this.enabled) return work();
    // Progress is a courtesy: if its own lookup fails, the work still runs (and reports its error).
    const render = await prepare().catch(() => undefined);
    if (!render) return work();
    this.redraw = () => this.stream.write(`\r\x1b[2K${render()}`);
    this.redraw();
    const timer = setInterval(() => this.redraw?.(), REDRAW_MS);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      this.redraw = undefined;
      this.stream.write("\r\x1b[2K");
    }
  }
}
