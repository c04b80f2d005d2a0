/**
 * The refusals of something over a size limit, worded once for the client and the server, so
 * that each names the limit the sender actually broke (a 5 MiB body is over the 4 MiB message
 * body limit; only a request whose bodies are within theirs is over the 6 MiB request limit).
 */
import { MQError } from "./errors.js";
import { Limits } from "./limits.js";

/** `4 MiB (4,194,304 bytes)`. */
export function sizeText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  const unit = Number.isInteger(mib) ? `${mib} MiB` : Number.isInteger(bytes / 1024) ? `${bytes / 1024} KiB` : `${bytes} bytes`;
  return unit.endsWith("bytes") ? unit : `${unit} (${String(bytes).replace(/\B(?=(\d{3})+(?!\d))/g, ",")} bytes)`;
}

/** One message body over `Limits.maxBodyBytes` (RocketMQ's maxMessageSize); `index` names it within a batch. */
export function bodyTooLarge(size: number, index?: number): MQError {
  const which = index === undefined ? "" : ` (message ${index})`;
  return new MQError("MESSAGE_BODY_TOO_LARGE", `message body is ${size} bytes${which}, over the message body limit of ${sizeText(Limits.maxBodyBytes)}`);
}

/** The bodies of one send together over `Limits.maxBatchBodyBytes`. */
export function bodiesTooLarge(total: number, hint = ""): MQError {
  return new MQError(
    "MESSAGE_BODY_TOO_LARGE",
    `message bodies total ${total} bytes, over the limit of ${sizeText(Limits.maxBatchBodyBytes)} of bodies in one send${hint}`,
  );
}

/** An HTTP request over `maxBytes` whose bodies are within their limits (or were not measured). */
export function requestTooLarge(size: number | undefined, maxBytes: number = Limits.maxRequestBytes): MQError {
  const is = size === undefined ? "request is" : `request is ${size} bytes,`;
  return new MQError("REQUEST_TOO_LARGE", `${is} over the HTTP request limit of ${sizeText(maxBytes)}`);
}
