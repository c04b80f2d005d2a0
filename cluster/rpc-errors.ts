/**
 * The one bridge for errors crossing Durable Object RPC. RPC carries an error's message but
 * not its own fields, so an MQError thrown inside an object crosses as `[CODE] message`
 * (`toRpcError`), and the caller rebuilds it here. Every reading of that form goes through
 * `decodeRpcError`, so the edge, the objects and tests agree on what counts as a coded refusal.
 * The form itself is protocol's (`codedMessage`), because it crosses to other Workers too: the
 * Workers RPC entrypoint (workers/rpc/) refuses with it and its callers read it with `mqErrorFromRpc`.
 */
import { codedMessage, isMQError, MQError, parseCodedMessage, type ErrorCode } from "../protocol/errors.js";

export function toRpcError(code: ErrorCode, message: string): Error {
  return new Error(codedMessage(code, message));
}

/** The code and message of a coded refusal (an MQError, or its `[CODE] message` form); null for anything else. */
export function decodeRpcError(e: unknown): { code: ErrorCode; message: string } | null {
  if (isMQError(e)) return { code: e.code, message: e.message };
  return parseCodedMessage(e instanceof Error ? e.message : String(e));
}

export function fromRpcError(e: unknown): MQError {
  if (isMQError(e)) return e;
  const coded = decodeRpcError(e);
  if (coded) return new MQError(coded.code, coded.message);
  const overloaded = typeof e === "object" && e !== null && (e as { overloaded?: unknown }).overloaded === true;
  return new MQError("SERVICE_UNAVAILABLE", overloaded ? "queue object overloaded" : "storage call failed", { cause: e });
}

/**
 * True when a Durable Object call failed without an answer from the object (unreachable,
 * reset, overloaded), as opposed to the object refusing with a coded error; only the former
 * may be served from a replica.
 */
export function isUnansweredRpc(e: unknown): boolean {
  return decodeRpcError(e) === null;
}

/** Runs an RPC on an object; a failure arrives as a typed MQError. */
export async function callRpc<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw fromRpcError(e);
  }
}
