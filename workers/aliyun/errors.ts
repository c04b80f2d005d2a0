/**
 * Failures in the Alibaba Cloud RocketMQ HTTP protocol: its error codes and statuses, and how
 * each flaremq error code (protocol/errors.ts) is told to an SDK. Every failure of this door is
 * an `<Error>` document with Code, Message, RequestId and HostId (the Node SDK needs the first
 * three to throw a coded error, the Python SDK all four), never flaremq's JSON.
 */
import { isMQError, type ErrorCode } from "../../protocol/errors.js";

/** The protocol's request-level codes and their statuses (docs/aliyun-http.md lists when each is sent). */
export const AliyunCodes = {
  MissingAuthorizationHeader: 400,
  InvalidAuthorizationHeader: 400,
  MissingDateHeader: 400,
  InvalidDateHeader: 400,
  InvalidDigest: 400,
  InvalidRequestURL: 400,
  InvalidQueryString: 400,
  MalformedXML: 400,
  InvalidArgument: 400,
  MissingReceiptHandle: 400,
  QpsLimitExceeded: 400,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  AccessDenied: 403,
  MessageNotExist: 404,
  TopicNotExist: 404,
  TimeExpired: 408,
  InternalError: 500,
} as const;

export type AliyunCode = keyof typeof AliyunCodes;

/** A failure this door answers with the protocol's `<Error>`. */
export class AliyunError extends Error {
  constructor(
    readonly code: AliyunCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return AliyunCodes[this.code];
  }
}

/** flaremq codes that are not "InvalidArgument" (400) when they reach an SDK. */
const FROM_FLAREMQ: Partial<Record<ErrorCode, AliyunCode>> = {
  TOPIC_NOT_EXIST: "TopicNotExist",
  ACCESS_DENIED: "AccessDenied",
  NO_PERMISSION: "AccessDenied",
  SYSTEM_TOPIC_FORBIDDEN: "AccessDenied",
  TRANSACTION_GROUP_MISMATCH: "AccessDenied",
  RATE_LIMITED: "QpsLimitExceeded",
  TOO_MANY_WAITERS: "QpsLimitExceeded",
  REQUEST_TOO_LARGE: "InvalidArgument",
  INTERNAL_ERROR: "InternalError",
  SERVICE_UNAVAILABLE: "InternalError",
  AUTH_NOT_CONFIGURED: "InternalError",
};

/** The protocol's code for any error a call threw, with the message to show. */
export function toAliyunError(e: unknown): AliyunError {
  if (e instanceof AliyunError) return e;
  if (isMQError(e)) {
    const code = FROM_FLAREMQ[e.code] ?? (e.status >= 500 ? "InternalError" : "InvalidArgument");
    // The flaremq code stays in the message: it says more than InvalidArgument does.
    return new AliyunError(code, code === "InternalError" ? `${e.code}: internal error` : `${e.code}: ${e.message}`);
  }
  return new AliyunError("InternalError", "internal error");
}

/** Messages the protocol's documentation gives for its codes, where a fixed one exists. */
export const AliyunMessages = {
  MessageNotExist: "Message not exist.",
  SignatureDoesNotMatch: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  MalformedXML: "The XML you provided was not well-formed.",
  TimeExpired: "The http request you sent is expired.",
  ReceiptHandleError: "The receipt handle you provide is not valid.",
} as const;
