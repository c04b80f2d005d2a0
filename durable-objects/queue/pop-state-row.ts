/**
 * A group's POP state as its `pop_group` row stores it. Every receive and every ack writes the
 * whole state, in-flight list included, so the row is compact: each in-flight message an array of
 * its numbers rather than an object with their names. A drain keeps a batch or two in flight per
 * receiver, and the object form of 48 messages was 6.7 KB, over one 4 KiB SQLite page; the
 * array form is 2.8 KB and serialises in two thirds of the time.
 *
 * Rows written before this form (a JSON object) are still read; the next write stores them
 * compactly.
 */
import type { InflightMessage, PopState } from "./pop-state.js";

/** First element of the compact form, so that a later form can tell it apart. */
const FORM = 2;

type InflightRow = [offset: number, nonce: number, invisibleUntil: number, visibleAt: number, reconsumeTimes: number, firstReceivedAt: number, key?: string];

export function encodePopState(state: PopState): string {
  return JSON.stringify([
    FORM,
    state.cursor,
    state.nonce,
    state.inflight.map((m): InflightRow => {
      const row: InflightRow = [m.offset, m.nonce, m.invisibleUntil, m.visibleAt, m.reconsumeTimes, m.firstReceivedAt];
      if (m.key !== undefined) row.push(m.key);
      return row;
    }),
  ]);
}

export function decodePopState(text: string): PopState {
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed)) return parsed as PopState; // the object form, as written before
  const [form, cursor, nonce, inflight] = parsed as [number, number, number, InflightRow[]];
  if (form !== FORM) throw new Error(`pop_group row in an unknown form ${String(form)}`);
  return {
    cursor,
    nonce,
    inflight: inflight.map(([offset, n, invisibleUntil, visibleAt, reconsumeTimes, firstReceivedAt, key]): InflightMessage => ({
      offset,
      nonce: n,
      invisibleUntil,
      visibleAt,
      reconsumeTimes,
      firstReceivedAt,
      ...(key !== undefined ? { key } : {}),
    })),
  };
}
