/**
 * The acks a SimpleConsumer holds until the end of the current tick. A receive that starts
 * meanwhile carries them, so the ack of one batch and the receive of the next are one request,
 * and on the server one object call and one row (the usual loop: receive, handle, ack the batch,
 * receive again). Acks no receive took leave together, in one ack request, once the tick ends;
 * nothing is held longer than that, so an awaited ack costs no time.
 */
import { isMQError, MQError } from "../protocol/errors.js";
import type { AckStatus } from "../protocol/receipt-handle.js";

interface Held {
  receiptHandles: readonly string[];
  resolve: (statuses: AckStatus[]) => void;
  reject: (error: unknown) => void;
}

/** Held acks a request took: it settles each with its part of the answer. */
export class AckParcel {
  readonly receiptHandles: string[];

  constructor(readonly held: readonly Held[]) {
    this.receiptHandles = held.flatMap((h) => h.receiptHandles);
  }

  /** Hands each ack its statuses, in the order of receiptHandles. */
  settle(statuses: readonly AckStatus[] | undefined): void {
    if (statuses?.length !== this.receiptHandles.length) {
      this.fail(new MQError("INTERNAL_ERROR", "the answer did not give a status for every receipt handle"));
      return;
    }
    let at = 0;
    for (const h of this.held) {
      h.resolve(statuses.slice(at, at + h.receiptHandles.length));
      at += h.receiptHandles.length;
    }
  }

  fail(error: unknown): void {
    for (const h of this.held) h.reject(error);
  }
}

/** Whether the server refused a request before it ran: nothing it carried was acked. */
export function refusedBeforeRunning(error: unknown): boolean {
  return isMQError(error) && error.status < 499;
}

export class HeldAcks {
  private held: Held[] = [];
  private flushQueued = false;

  /**
   * @param send sends one ack request and answers each handle's status in order.
   * @param maxHandles most handles one request carries (the server's limit).
   */
  constructor(
    private readonly send: (receiptHandles: string[]) => Promise<AckStatus[]>,
    private readonly maxHandles: number,
  ) {}

  /** Holds an ack until a receive takes it or the tick ends; one past maxHandles leaves alone at once (and is refused). */
  add(receiptHandles: readonly string[]): Promise<AckStatus[]> {
    if (receiptHandles.length > this.maxHandles) return this.send([...receiptHandles]);
    return new Promise((resolve, reject) => {
      this.held.push({ receiptHandles, resolve, reject });
      this.queueFlush();
    });
  }

  /** The held acks for a receive to carry (whole acks, up to maxHandles handles), or undefined when none is held. */
  take(): AckParcel | undefined {
    let count = 0;
    let n = 0;
    while (n < this.held.length && count + this.held[n]!.receiptHandles.length <= this.maxHandles) count += this.held[n++]!.receiptHandles.length;
    if (n === 0) return undefined;
    return new AckParcel(this.held.splice(0, n));
  }

  /** Holds again what a refused request carried; it leaves in an ack request at the end of the tick. */
  putBack(parcel: AckParcel): void {
    this.held.unshift(...parcel.held);
    this.queueFlush();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  private flush(): void {
    for (let parcel = this.take(); parcel; parcel = this.take()) {
      const sent = parcel;
      this.send(sent.receiptHandles).then(
        (statuses) => sent.settle(statuses),
        (e: unknown) => sent.fail(e),
      );
    }
  }
}
