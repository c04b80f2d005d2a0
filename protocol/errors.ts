/**
 * The one error model shared by server, client and CLI.
 *
 * Every error has a stable literal `code`, the HTTP `status` the server answers with, and a
 * `retriable` flag the client uses to decide whether a call may be repeated. The server
 * serialises it as `{ code, message, requestId }`; the client rebuilds the same class from
 * that body. Use `isMQError` rather than `instanceof`: bundles may carry two copies of it.
 */

export const ErrorCodes = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  INVALID_TOPIC_NAME: 400,
  INVALID_GROUP_NAME: 400,
  QUEUE_ID_ILLEGAL: 400,
  /** A receipt handle that cannot be read, names no message held for the group, or was already used: nothing changed. */
  RECEIPT_HANDLE_INVALID: 400,
  /** An invisible duration outside 10 s – 12 h (SimpleConsumer receive, changeInvisibleDuration). */
  INVISIBLE_DURATION_ILLEGAL: 400,
  OFFSET_ILLEGAL: 400,
  MESSAGE_ILLEGAL: 400,
  BROKER_NOT_EXIST: 400,
  MESSAGE_ID_ILLEGAL: 400,
  DELAY_LEVEL_ILLEGAL: 400,
  DELIVER_TIME_ILLEGAL: 400,
  BATCH_DELAY_NOT_SUPPORTED: 400,
  INVALID_FILTER_EXPRESSION: 400,
  SESSION_TIMEOUT_ILLEGAL: 400,
  /** A member's configured queues (CONFIG strategy) name a queue outside its subscribed topics' routes. */
  CONFIGURED_QUEUE_ILLEGAL: 400,
  /** A push subscription's target is not allowed: a service binding not in PUSH_SERVICE_BINDINGS, a webhook URL that is not public https. */
  PUSH_TARGET_NOT_ALLOWED: 400,
  TRANSACTION_GROUP_MISMATCH: 403,
  UNAUTHENTICATED: 401,
  SIGNATURE_INVALID: 401,
  REQUEST_EXPIRED: 401,
  REQUEST_REPLAYED: 401,
  /** Dated at or before what the replay guard of its key still remembers (after a restart); sign again. */
  REQUEST_STALE: 401,
  /**
   * The topic's (or broker's) permission forbids the call, whoever makes it (RocketMQ's
   * NO_PERMISSION, "the topic[T] not writeable"): a send to a topic without W (perm 4, or a
   * drained broker), a read of one without R. The message names the topic and its permission.
   */
  NO_PERMISSION: 403,
  /** The account lacks a right the call needs; the message names it: `account "x" lacks PUB on topic "T"`. */
  ACCESS_DENIED: 403,
  SYSTEM_TOPIC_FORBIDDEN: 403,
  /** A request signed in by the dashboard's session cookie came from a page of another origin. */
  CROSS_ORIGIN_REFUSED: 403,
  TOPIC_NOT_EXIST: 404,
  MESSAGE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  TRANSACTION_NOT_FOUND: 404,
  /** The consumer group has no push subscription. */
  PUSH_SUBSCRIPTION_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOPIC_ALREADY_EXISTS: 409,
  BROKER_HAS_TOPICS: 409,
  /** A consumer group with live members (or a push subscription) cannot be deleted: their next heartbeat would bring it back. */
  GROUP_HAS_MEMBERS: 409,
  TRANSACTION_ALREADY_COMMITTED: 409,
  TRANSACTION_ALREADY_ROLLED_BACK: 409,
  NOT_QUEUE_OWNER: 409,
  STALE_OFFSET_RESET: 409,
  /** A member names an allocation strategy other than the one the group's other members use. */
  ALLOCATE_STRATEGY_CONFLICT: 409,
  /**
   * A POP (SimpleConsumer) call for a group that consumes by offsets on this queue, or the other
   * way round; a client (push, pull or POP) of a group that has a push subscription, or a push
   * subscription for a group that clients consume.
   */
  CONSUME_MODE_MISMATCH: 409,
  /** A receipt handle whose invisibility ran out, or whose message was received again since: nothing changed. */
  RECEIPT_HANDLE_EXPIRED: 410,
  /** A send channel past its age, or closed by a route change: nothing of the frame was stored; open a new one. */
  CHANNEL_EXPIRED: 410,
  /** The HTTP request is over 6 MiB while its message bodies are within their limits (else MESSAGE_BODY_TOO_LARGE). */
  REQUEST_TOO_LARGE: 413,
  /** A message body over 4 MiB, or the bodies of one send over 4 MiB together: named first, even when the request is over its own limit too. */
  MESSAGE_BODY_TOO_LARGE: 413,
  PROPERTIES_SIZE_EXCEEDED: 413,
  /** A heartbeat would make the group's members together describe more than Limits.maxGroupBytes. */
  GROUP_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** A send channel is opened by a WebSocket upgrade. */
  UPGRADE_REQUIRED: 426,
  TOO_MANY_WAITERS: 429,
  /** A queue holds as many send channels as it takes; send over HTTP meanwhile. */
  TOO_MANY_CHANNELS: 429,
  TOO_MANY_MEMBERS: 429,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  AUTH_NOT_CONFIGURED: 503,
  /** Client side only: the call did not finish within its timeout. */
  TIMEOUT: 504,
  /** Client side only: the network call failed before an answer arrived. */
  NETWORK_ERROR: 503,
  /** Client side only: the caller aborted the call. */
  ABORTED: 499,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Codes after which the same request may safely be tried again (possibly elsewhere). */
const RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "INTERNAL_ERROR",
  "SERVICE_UNAVAILABLE",
  "TIMEOUT",
  "NETWORK_ERROR",
  "TOO_MANY_WAITERS",
  "TOO_MANY_CHANNELS",
  "CHANNEL_EXPIRED",
  "RATE_LIMITED",
  "REQUEST_STALE",
]);

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId?: string;
}

export class MQError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly requestId: string | undefined;
  /** Marker used by `isMQError`; survives bundling where `instanceof` does not. */
  readonly isMQError = true as const;

  constructor(code: ErrorCode, message: string, options: { requestId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MQError";
    this.code = code;
    this.status = ErrorCodes[code];
    this.retriable = RETRIABLE.has(code);
    this.requestId = options.requestId;
  }

  toJSON(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.requestId !== undefined) body.requestId = this.requestId;
    return body;
  }
}

export function isMQError(e: unknown): e is MQError {
  return typeof e === "object" && e !== null && (e as { isMQError?: unknown }).isMQError === true;
}

/**
 * An error's form where only its message crosses a boundary (Workers RPC, between objects and
 * to a Worker bound to flaremq): `[CODE] message`. The server writes it, callers read it back.
 */
export function codedMessage(code: ErrorCode, message: string): string {
  return `[${code}] ${message}`;
}

/** The code and message of a `[CODE] message` text; null when the text is not one. */
export function parseCodedMessage(text: string): { code: ErrorCode; message: string } | null {
  const match = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(text);
  return match && isErrorCode(match[1]) ? { code: match[1], message: match[2]! } : null;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ErrorCodes, value);
}

/** Rebuilds an MQError from a server answer; unknown shapes become INTERNAL_ERROR or by status. */
export function errorFromBody(status: number, body: unknown): MQError {
  if (typeof body === "object" && body !== null) {
    const { code, message, requestId } = body as Record<string, unknown>;
    if (isErrorCode(code)) {
      const opts: { requestId?: string } = {};
      if (typeof requestId === "string") opts.requestId = requestId;
      return new MQError(code, typeof message === "string" ? message : code, opts);
    }
  }
  const code: ErrorCode = status === 404 ? "NOT_FOUND" : status >= 500 ? "SERVICE_UNAVAILABLE" : "BAD_REQUEST";
  return new MQError(code, `HTTP ${status}`);
}
