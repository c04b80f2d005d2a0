/**
 * The Alibaba Cloud RocketMQ HTTP door: the protocol's one resource, /topics/{topic}/messages,
 * served on the same Worker and paths as the native API, so an SDK's endpoint is flaremq's URL
 * as it is. A request there is this protocol's when it signs with `Authorization: MQ ...` (as
 * every SDK does) or names a `consumer`: the native API, whose only operation there is a GET
 * query by key, does neither. It runs before the native middleware: its own signature check
 * (auth.ts), its own rights check against the native operations' requirements, and every
 * answer in the protocol's XML (response.ts).
 *
 *   POST                    publish (publish.ts)
 *   GET                     consume; trans=order orderly; trans=pop half messages (consume.ts, transaction.ts)
 *   DELETE                  ack; trans=commit|rollback decide a transaction (ack.ts, transaction.ts)
 *
 * The instance id (`ns`) is accepted and ignored: one flaremq deployment is one instance, and
 * topics and groups are flaremq's own (docs/aliyun-http.md).
 */
import type { MiddlewareHandler } from "hono";
import { tryDecodeURIComponent } from "hono/utils/url";
import { Limits } from "../../protocol/limits.js";
import { checkGroupName, checkTopicName } from "../../protocol/names.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import type { AppEnv } from "../shared/app-env.js";
import { operationOf, requireRights } from "../rpc/binding-account.js";
import { ack, readHandles } from "./ack.js";
import { authenticate } from "./auth.js";
import { consume, readConsumeParams } from "./consume.js";
import { AliyunError, AliyunMessages, toAliyunError } from "./errors.js";
import { publish, readPublish } from "./publish.js";
import { errorResponse, handleFailures, newRequestId, noContent, xmlResponse } from "./response.js";
import { consumeHalf, decide } from "./transaction.js";
import { MalformedXmlError, parseXml, type XmlElement } from "./xml.js";

const RESOURCE = /^\/topics\/([^/]+)\/messages$/;

// The native operations whose rights each call needs (checked as the native routes check them).
const SEND = operationOf("POST", "/brokers/:broker/topics/:topic/queues/:queueId/messages");
const RECEIVE = operationOf("POST", "/groups/:group/receive");
const ACK = operationOf("POST", "/groups/:group/ack");
const CHECK_POLL = operationOf("GET", "/producers/:group/checks");
const END_TRANSACTION = operationOf("POST", "/brokers/:broker/topics/:topic/queues/:queueId/transactions/:transactionId");

/** True when a request to the resource path is this protocol's rather than the native API's. */
export function isAliyunRequest(query: URLSearchParams, authorization: string | null): boolean {
  return (authorization ?? "").startsWith("MQ ") || query.has("consumer");
}

async function readBody(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > Limits.maxRequestBytes)
    throw new AliyunError("InvalidArgument", `The request body is larger than ${Limits.maxRequestBytes} bytes.`);
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > Limits.maxRequestBytes) throw new AliyunError("InvalidArgument", `The request body is larger than ${Limits.maxRequestBytes} bytes.`);
  return bytes;
}

function xmlOf(body: Uint8Array): XmlElement {
  try {
    return parseXml(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch (e) {
    if (e instanceof MalformedXmlError || e instanceof TypeError) throw new AliyunError("MalformedXML", AliyunMessages.MalformedXML);
    throw e;
  }
}

function groupOf(query: URLSearchParams): string {
  const group = query.get("consumer");
  if (group === null || group === "") throw new AliyunError("InvalidArgument", "The consumer parameter is required.");
  checkGroupName(group);
  return group;
}

/** Rights as the native API checks them; an open local server (no account) allows everything. */
function needs(account: StoredAccount | null, op: Parameters<typeof requireRights>[1], params: Record<string, string>): void {
  if (account) requireRights(account, op, params);
}

async function serve(c: Parameters<MiddlewareHandler<AppEnv>>[0], url: URL, topicText: string, requestId: string): Promise<Response> {
  const method = c.req.method;
  const body = method === "GET" ? new Uint8Array() : await readBody(c.req.raw);
  const account = await authenticate(c.env, { method, url, headers: c.req.raw.headers, body });
  const accountKey = account?.accessKey ?? c.req.header("cf-connecting-ip") ?? "local";
  // The SDKs put the topic in the path raw: a `%` of a name like %RETRY%G is not an escape.
  const topic = tryDecodeURIComponent(topicText);
  checkTopicName(topic);
  const query = url.searchParams;
  const trans = query.get("trans");

  if (method === "POST") {
    needs(account, SEND, { topic });
    return xmlResponse(requestId, 201, await publish(c.env, topic, readPublish(xmlOf(body))));
  }
  if (method === "GET") {
    const group = groupOf(query);
    const params = readConsumeParams(query);
    if (trans === "pop") {
      needs(account, CHECK_POLL, { group });
      needs(account, END_TRANSACTION, { topic });
      return xmlResponse(requestId, 200, await consumeHalf(c.env, topic, params, accountKey));
    }
    if (trans !== null && trans !== "order") throw new AliyunError("InvalidQueryString", `trans must be order or pop on a GET, got "${trans}".`);
    needs(account, RECEIVE, { group, topic });
    return xmlResponse(requestId, 200, await consume(c.env, topic, group, params, trans === "order", accountKey));
  }
  if (method === "DELETE") {
    const group = groupOf(query);
    const handles = readHandles(xmlOf(body));
    let failures;
    if (trans === "commit" || trans === "rollback") {
      needs(account, CHECK_POLL, { group });
      needs(account, END_TRANSACTION, { topic });
      failures = await decide(c.env, topic, handles, trans === "commit");
    } else if (trans === null) {
      needs(account, ACK, { group, topic });
      failures = await ack(c.env, topic, group, handles, (t) => needs(account, ACK, { group, topic: t }));
    } else throw new AliyunError("InvalidQueryString", `trans must be commit or rollback on a DELETE, got "${trans}".`);
    return failures.length === 0 ? noContent(requestId) : handleFailures(requestId, failures);
  }
  throw new AliyunError("InvalidRequestURL", `${method} is not an operation of /topics/{topic}/messages.`);
}

/** The door: answers this protocol's requests, passes every other request on. */
export const aliyunDoor: MiddlewareHandler<AppEnv> = async (c, next) => {
  const url = new URL(c.req.url);
  const hit = RESOURCE.exec(url.pathname);
  if (!hit || !isAliyunRequest(url.searchParams, c.req.header("authorization") ?? null)) return next();
  const requestId = newRequestId();
  try {
    return await serve(c, url, hit[1]!, requestId);
  } catch (e) {
    const error = toAliyunError(e);
    if (error.status >= 500) console.error(`[aliyun ${requestId}]`, e);
    return errorResponse(requestId, error, url.origin);
  }
};
