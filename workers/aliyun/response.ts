/**
 * Answers of the Alibaba Cloud RocketMQ HTTP door: every one carries the protocol's request id
 * (`x-mq-request-id`, 24 upper-case hex, which the SDKs report), `x-mq-version` and `Date`; every
 * body is `text/xml;charset=utf-8`, the only content type the Node SDK parses.
 */
import { AliyunMessages, type AliyunError } from "./errors.js";
import { fieldsDocument, fieldsElement, document } from "./xml.js";

export const MQ_VERSION = "2015-06-06";

/** A request id in the protocol's form. */
export function newRequestId(): string {
  let out = "";
  for (const b of crypto.getRandomValues(new Uint8Array(12))) out += b.toString(16).padStart(2, "0");
  return out.toUpperCase();
}

function headers(requestId: string, withBody: boolean): Headers {
  const h = new Headers({ "x-mq-request-id": requestId, "x-mq-version": MQ_VERSION, date: new Date().toUTCString() });
  if (withBody) h.set("content-type", "text/xml;charset=utf-8");
  return h;
}

export function xmlResponse(requestId: string, status: number, body: string): Response {
  return new Response(body, { status, headers: headers(requestId, true) });
}

/** 204: an ack, commit or rollback where every handle succeeded. */
export function noContent(requestId: string): Response {
  return new Response(null, { status: 204, headers: headers(requestId, false) });
}

/** The `<Error>` document; `hostId` is the endpoint the client called. */
export function errorResponse(requestId: string, error: AliyunError, hostId: string): Response {
  const body = fieldsDocument("Error", [
    ["Code", error.code],
    ["Message", error.message],
    ["RequestId", requestId],
    ["HostId", hostId],
  ]);
  return xmlResponse(requestId, error.status, body);
}

/** One handle an ack, commit or rollback could not apply. */
export interface HandleFailure {
  receiptHandle: string;
  code: "ReceiptHandleError" | "MessageNotExist";
}

/** 404 with `<Errors>`: the handles that failed (the others of the batch were applied). */
export function handleFailures(requestId: string, failures: readonly HandleFailure[]): Response {
  const items = failures.map((f) =>
    fieldsElement("Error", [
      ["ErrorCode", f.code],
      ["ErrorMessage", f.code === "MessageNotExist" ? AliyunMessages.MessageNotExist : AliyunMessages.ReceiptHandleError],
      ["ReceiptHandle", f.receiptHandle],
    ]),
  );
  return xmlResponse(requestId, 404, document("Errors", items.join("\n")));
}
