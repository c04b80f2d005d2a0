import { describe, expect, it } from "vitest";
import { MQError } from "../protocol/errors.js";
import type { AckStatus } from "../protocol/receipt-handle.js";
import { HeldAcks, refusedBeforeRunning } from "./held-acks.js";

/** An ack sender that records each request and answers OK for every handle, or fails when told to. */
function recordingSender() {
  const sent: string[][] = [];
  let failWith: Error | undefined;
  const send = (handles: string[]): Promise<AckStatus[]> => {
    sent.push(handles);
    return failWith === undefined ? Promise.resolve(handles.map((): AckStatus => "OK")) : Promise.reject(failWith);
  };
  return { sent, send, fail: (e: Error) => (failWith = e) };
}

describe("HeldAcks", () => {
  it("acks given in one tick leave together in one request once the tick ends, each answered with its own statuses", async () => {
    const { sent, send } = recordingSender();
    const held = new HeldAcks(send, 10);
    const a = held.add(["a1", "a2"]);
    const b = held.add(["b1"]);
    expect(sent).toEqual([]); // nothing leaves before the tick ends
    expect(await a).toEqual(["OK", "OK"]);
    expect(await b).toEqual(["OK"]);
    expect(sent).toEqual([["a1", "a2", "b1"]]);
  });

  it("a receive in the same tick takes them (whole acks, up to the limit), and what it leaves goes in the tick's request", async () => {
    const { sent, send } = recordingSender();
    const held = new HeldAcks(send, 3);
    const a = held.add(["a1", "a2"]);
    const b = held.add(["b1", "b2"]);
    const parcel = held.take();
    expect(parcel?.receiptHandles).toEqual(["a1", "a2"]); // b would pass the limit of 3
    parcel!.settle(["OK", "RECEIPT_HANDLE_EXPIRED"]);
    expect(await a).toEqual(["OK", "RECEIPT_HANDLE_EXPIRED"]);
    expect(await b).toEqual(["OK", "OK"]);
    expect(sent).toEqual([["b1", "b2"]]);
    expect(held.take()).toBeUndefined();
  });

  it("an answer without a status for every handle fails the acks it carried", async () => {
    const held = new HeldAcks(recordingSender().send, 10);
    const a = held.add(["a1", "a2"]);
    held.take()!.settle(["OK"]);
    await expect(a).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
  });

  it("what a refused request carried is held again and leaves on its own; a failed one fails its acks", async () => {
    const { sent, send, fail } = recordingSender();
    const held = new HeldAcks(send, 10);
    const a = held.add(["a1"]);
    held.putBack(held.take()!);
    expect(await a).toEqual(["OK"]);
    expect(sent).toEqual([["a1"]]);

    fail(new MQError("NETWORK_ERROR", "down"));
    await expect(held.add(["b1"])).rejects.toMatchObject({ code: "NETWORK_ERROR" });
  });

  it("an ack past the limit is sent alone at once, for the server to refuse", async () => {
    const { sent, send } = recordingSender();
    const held = new HeldAcks(send, 2);
    const big = held.add(["x", "y", "z"]);
    expect(sent).toEqual([["x", "y", "z"]]);
    expect(held.take()).toBeUndefined();
    await big;
  });

  it("counts as refused before running only a server's 4xx answer, not a timeout, an abort or a network failure", () => {
    expect(refusedBeforeRunning(new MQError("TOPIC_NOT_EXIST", "no"))).toBe(true);
    expect(refusedBeforeRunning(new MQError("RATE_LIMITED", "slow down"))).toBe(true);
    for (const code of ["ABORTED", "TIMEOUT", "NETWORK_ERROR", "INTERNAL_ERROR"] as const) expect(refusedBeforeRunning(new MQError(code, code))).toBe(false);
    expect(refusedBeforeRunning(new Error("plain"))).toBe(false);
  });
});
