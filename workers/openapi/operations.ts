/**
 * Every operation of the REST API, described once. The OpenAPI document is generated from
 * this table and the zod schemas the handlers validate with, and a test checks that it lists
 * exactly the routes the app serves, so a new route cannot go undocumented.
 */
import type { z } from "zod";
import type { Requirement } from "../../protocol/auth/permissions.js";
import { AccountInputSchema } from "../auth/accounts.js";
import {
  AddBrokerSchema,
  FaultsSchema,
  CommitOffsetsSchema,
  CreateTopicSchema,
  DlqDeleteSchema,
  DlqResendSchema,
  PopAckSchema,
  PopChangeInvisibleSchema,
  PopReceiveHttpSchema,
  HeartbeatSchema,
  ResetOffsetSchema,
  SendBackSchema,
  MultiSendRequestSchema,
  SendRequestSchema,
  TopicConfigSchema,
  TransactionDecisionSchema,
  WebhookSchema,
} from "../../protocol/schemas.js";
import { PushSubscriptionRequestSchema } from "../../protocol/push-subscription.js";

export interface Param {
  name: string;
  description: string;
  required?: boolean;
  type?: "string" | "integer" | "boolean";
}

export interface Operation {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Hono path syntax (`:name`). */
  path: string;
  tag: string;
  summary: string;
  query?: Param[];
  body?: z.ZodType;
  /** Status of a success answer; default 200. */
  success?: number;
  /** Who may call it once accounts are configured (RocketMQ ACL: PUB/SUB per topic and group). */
  auth: Requirement;
  /**
   * What the account needs on a resource the body names (`param` is the body field), checked
   * by the handler once the body is validated, on top of `auth`; absent when the body names none.
   */
  bodyAuth?: Requirement;
  /** Expensive operations are rate limited per key: queries by rate, long polls by count. */
  cost?: "query" | "longPoll";
}

const Q = "/brokers/:broker/topics/:topic/queues/:queueId";
const AccountBodyDoc = AccountInputSchema.omit({ accessKey: true });
const ANY: Requirement = { kind: "any" };
const ADMIN: Requirement = { kind: "admin" };
const TOPIC_PUB: Requirement = { kind: "topic", param: "topic", action: "PUB" };
const TOPIC_SUB: Requirement = { kind: "topic", param: "topic", action: "SUB" };
const GROUP_SUB: Requirement = { kind: "group", param: "group", action: "SUB" };
/** A group's offset on a queue: the offset tells how far the topic has grown, so SUB on both. */
const GROUP_AND_TOPIC_SUB: Requirement = { kind: "all", of: [GROUP_SUB, TOPIC_SUB] };
/** A producer group's right (PUB on the group): its checks, its status. */
const PRODUCER_GROUP: Requirement = { kind: "group", param: "group", action: "PUB" };
/** The producer group a transactional send or a decision names in its body. */
const BODY_PRODUCER_GROUP: Requirement = { kind: "group", param: "producerGroup", action: "PUB" };
/** The topic a SimpleConsumer call names in its body or its receipt handles. */
const BODY_TOPIC_SUB: Requirement = { kind: "topic", param: "topic", action: "SUB" };
const int = (name: string, description: string, required = false): Param => ({ name, description, required, type: "integer" });
const str = (name: string, description: string, required = false): Param => ({ name, description, required, type: "string" });

export const operations: Operation[] = [
  { method: "GET", path: "/healthz", tag: "ops", summary: "Health check", auth: { kind: "public" } },
  {
    method: "GET",
    path: "/metrics",
    tag: "ops",
    summary:
      "Prometheus metrics: per queue offsets, storage, parked long polls, delayed and half messages; per group offsets, lag, retry and DLQ counts; replication lag; this isolate's requests by operation and status with latency, and sends by status",
    auth: ADMIN,
    cost: "query",
  },
  { method: "GET", path: "/namesrv/topics", tag: "namesrv", summary: "List topics with their queue data per broker", auth: ANY },
  { method: "POST", path: "/namesrv/topics", tag: "namesrv", summary: "Create a topic (409 if it exists)", body: CreateTopicSchema, success: 201, auth: ADMIN },
  { method: "GET", path: "/namesrv/topics/:topic", tag: "namesrv", summary: "A topic's configuration", auth: ANY },
  {
    method: "PUT",
    path: "/namesrv/topics/:topic",
    tag: "namesrv",
    summary: "Create or update a topic (mqadmin updateTopic)",
    body: TopicConfigSchema,
    auth: ADMIN,
  },
  { method: "DELETE", path: "/namesrv/topics/:topic", tag: "namesrv", summary: "Delete a topic and its messages", auth: ADMIN },
  { method: "GET", path: "/namesrv/topics/:topic/route", tag: "namesrv", summary: "TopicRouteData: broker datas and queue datas", auth: ANY },
  {
    method: "GET",
    path: "/namesrv/brokers",
    tag: "namesrv",
    summary: "cluster list: every broker with roles, last heartbeat, topics and replication lag",
    auth: ANY,
    cost: "query",
  },
  {
    method: "POST",
    path: "/namesrv/brokers",
    tag: "namesrv",
    summary: "Add a broker to the running deployment; it registers and takes new topics",
    body: AddBrokerSchema,
    success: 201,
    auth: ADMIN,
  },
  {
    method: "DELETE",
    path: "/namesrv/brokers/:broker",
    tag: "namesrv",
    summary: "Remove a broker that holds no topics (409 BROKER_HAS_TOPICS otherwise); configured brokers are refused",
    auth: ADMIN,
  },
  {
    method: "PUT",
    path: "/_test/faults",
    tag: "ops",
    summary: "Test configuration only (404 otherwise): make NameServers or masters unreachable, silence brokers",
    body: FaultsSchema,
    auth: ADMIN,
  },
  {
    method: "GET",
    path: "/_test/activity",
    tag: "ops",
    summary:
      "Test configuration only (404 otherwise): per object class, calls in progress, activations and busy time in this isolate (the benchmark's idle cost), stub calls, alarm runs, WebSocket events and storage writes (its cost per message)",
    auth: ADMIN,
  },
  {
    method: "POST",
    path: "/namesrv/brokers/:broker/wipe-write-perm",
    tag: "namesrv",
    summary: "Drain a broker: remove write permission of all its topics",
    auth: ADMIN,
  },
  {
    method: "POST",
    path: "/namesrv/brokers/:broker/add-write-perm",
    tag: "namesrv",
    summary: "Restore write permission of all a broker's topics",
    auth: ADMIN,
  },
  { method: "GET", path: "/namesrv/groups", tag: "namesrv", summary: "Consumer groups that have had members", auth: ANY },
  {
    method: "POST",
    path: `${Q}/messages`,
    tag: "broker",
    summary: "Send one message or a batch (SendResult); delayed and transactional sends too (PUB on the producer group as well)",
    query: [{ name: "oneway", description: "true: answer 202 before the write is durable", type: "boolean" }],
    body: SendRequestSchema,
    auth: TOPIC_PUB,
    bodyAuth: BODY_PRODUCER_GROUP,
  },
  {
    method: "GET",
    path: `${Q}/channel`,
    tag: "broker",
    summary:
      "Open a send channel to the queue (WebSocket upgrade, PUB on the topic): binary frames, each a framed head { id, messages } with each body's byte length followed by the raw bodies, answered in text with { id, results } (one result or refusal per message, as the multi-queue send) or { id, code, message } for the whole frame. The first text is { hello: { maxAgeMs } }; after that age, or a change of the topic's route, a frame is refused CHANNEL_EXPIRED and the channel closes. Plain messages only: delayed and transaction sends use POST .../messages",
    auth: TOPIC_PUB,
  },
  {
    method: "GET",
    path: `${Q}/pull-channel`,
    tag: "broker",
    summary:
      "Open a pull channel to the queue's master (WebSocket upgrade, SUB on the topic): text frames { id, pull: { offset, maxNums, expression, expressionType, maxWaitMs, group?, fence? } } or { cancel: id }; a pull with nothing to read waits in the queue object up to maxWaitMs (or until cancelled) and is answered binary, framed as a pull's framed answer with id in the head, or in text { id, code, message }. The hello, the age (the longest pull wait) and the end are the send channel's",
    auth: TOPIC_SUB,
  },
  {
    method: "GET",
    path: `${Q}/messages`,
    tag: "broker",
    summary:
      "Pull with long polling (PullResult). With `Accept: application/vnd.flaremq.framed` the answer is framed: a u32 length, the JSON head with each message's body replaced by its byte length, then the raw bodies (no base64)",
    query: [
      int("offset", "queue offset to read from", true),
      int("maxNums", "at most this many messages (1-32, default 32)"),
      str("expression", "tag expression or SQL92 (default *)"),
      str("expressionType", "TAG (default) or SQL92"),
      int("maxWaitMs", "long-poll hold when nothing is there (0-30000, default 15000)"),
      int("brokerId", "0 (default) the master; a slave's id to read from it (as suggestWhichBrokerId says)"),
      str("group", "member pulls: the consumer group"),
      str("clientId", "member pulls: the member"),
      int("generation", "member pulls: the assignment generation the member holds"),
    ],
    auth: TOPIC_SUB,
    cost: "longPoll",
  },
  { method: "GET", path: `${Q}/messages/:offset`, tag: "broker", summary: "The message at a queue offset", auth: TOPIC_SUB },
  {
    method: "GET",
    path: `${Q}/stats`,
    tag: "broker",
    summary: "minOffset, maxOffset, last store time, storage bytes, rows written",
    query: [int("brokerId", "0 (default) the master; a slave's id for its copy")],
    auth: TOPIC_SUB,
  },
  {
    method: "GET",
    path: `${Q}/offsets/search`,
    tag: "broker",
    summary: "First offset stored at or after a time",
    query: [int("timestamp", "epoch ms", true)],
    auth: TOPIC_SUB,
  },
  {
    method: "GET",
    path: `${Q}/groups/:group/offset`,
    tag: "broker",
    summary: "A group's committed offset (-1 none; 0 on a fresh queue)",
    auth: GROUP_AND_TOPIC_SUB,
  },
  {
    method: "PUT",
    path: `${Q}/groups/:group/offset`,
    tag: "broker",
    summary: "Commit a group's offset (members add their fence)",
    body: CommitOffsetsSchema,
    auth: GROUP_AND_TOPIC_SUB,
  },
  { method: "GET", path: `${Q}/delayed`, tag: "broker", summary: "Delayed messages waiting: count per level and next due time", auth: TOPIC_SUB },
  {
    method: "POST",
    path: `${Q}/transactions/:transactionId`,
    tag: "transactions",
    summary: "Commit or roll back a half message (PUB on the topic and on the producer group)",
    body: TransactionDecisionSchema,
    auth: TOPIC_PUB,
    bodyAuth: BODY_PRODUCER_GROUP,
  },
  {
    method: "GET",
    path: `${Q}/transactions`,
    tag: "transactions",
    summary: "Half messages of a queue",
    query: [str("state", "PENDING, COMMITTED, ROLLED_BACK or GIVEN_UP"), int("limit", "at most this many (default 100)")],
    auth: ADMIN,
  },
  { method: "GET", path: "/messages/:offsetMsgId", tag: "query", summary: "A message by its offsetMsgId", auth: ADMIN, cost: "query" },
  { method: "GET", path: "/topics/:topic/status", tag: "query", summary: "Per queue min/max offset, last update and storage", auth: TOPIC_SUB, cost: "query" },
  {
    method: "GET",
    path: "/topics/:topic/messages",
    tag: "query",
    summary: "Messages carrying a key, within a store-time range",
    query: [str("key", "the key", true), int("begin", "epoch ms"), int("end", "epoch ms"), int("maxNum", "at most this many (default 32)")],
    auth: TOPIC_SUB,
    cost: "query",
  },
  {
    method: "POST",
    path: "/topics/:topic/messages",
    tag: "broker",
    summary:
      "Send independent messages to several queues of a topic in one request (the producer's auto-batching): each is stored or refused on its own, answered with one result per message in request order ({ results: [{ ok, result } | { ok, code, message }] })",
    body: MultiSendRequestSchema,
    auth: TOPIC_PUB,
  },
  {
    method: "GET",
    path: "/topics/:topic/messages/by-id/:msgId",
    tag: "query",
    summary: "A message by its msgId (client unique key)",
    auth: TOPIC_SUB,
    cost: "query",
  },
  {
    method: "GET",
    path: "/producers",
    tag: "transactions",
    summary: "Producer groups the server has heard from (a producer polled for checks, a check waited, a webhook was set)",
    auth: ANY,
  },
  { method: "GET", path: "/producers/:group", tag: "transactions", summary: "Producer group status: pending checks, pollers, webhook", auth: PRODUCER_GROUP },
  {
    method: "GET",
    path: "/producers/:group/checks",
    tag: "transactions",
    summary: "Long poll for transaction check-backs",
    query: [int("maxWaitMs", "hold (0-30000, default 15000)"), int("max", "at most this many checks (default 32)")],
    auth: PRODUCER_GROUP,
    cost: "longPoll",
  },
  { method: "PUT", path: "/producers/:group/webhook", tag: "transactions", summary: "Register a check-back webhook", body: WebhookSchema, auth: ADMIN },
  { method: "DELETE", path: "/producers/:group/webhook", tag: "transactions", summary: "Remove the check-back webhook", auth: ADMIN },
  {
    method: "POST",
    path: "/groups/:group/heartbeat",
    tag: "consumers",
    summary: "Join or stay in a consumer group; answers the member's queues",
    body: HeartbeatSchema,
    auth: GROUP_SUB,
  },
  { method: "DELETE", path: "/groups/:group/members/:clientId", tag: "consumers", summary: "Leave the group at once", auth: GROUP_SUB },
  { method: "GET", path: "/groups/:group", tag: "consumers", summary: "Members, their queues, generation, strategy", auth: GROUP_SUB },
  {
    method: "DELETE",
    path: "/groups/:group",
    tag: "consumers",
    summary: "Delete a consumer group without live members (409 GROUP_HAS_MEMBERS otherwise) with its retry and DLQ topics; committed offsets stay",
    auth: ADMIN,
  },
  {
    method: "GET",
    path: "/groups/:group/watch",
    tag: "consumers",
    summary: "Long poll until the group's generation passes the one given",
    query: [int("generation", "the generation the member knows", true), int("maxWaitMs", "hold (0-30000)")],
    auth: GROUP_SUB,
    cost: "longPoll",
  },
  {
    method: "GET",
    path: "/groups/:group/progress",
    tag: "consumers",
    summary: "Per queue broker offset, consumer offset, lag",
    query: [str("topic", "one topic (default: the group's subscriptions)")],
    auth: GROUP_SUB,
    cost: "query",
  },
  {
    method: "POST",
    path: "/groups/:group/reset-offset",
    tag: "consumers",
    summary: "Move the group's offsets of a topic to a time",
    body: ResetOffsetSchema,
    auth: ADMIN,
  },
  {
    method: "POST",
    path: "/groups/:group/sendback",
    tag: "consumers",
    summary: "Send a failed message to the retry topic or the DLQ",
    body: SendBackSchema,
    auth: GROUP_SUB,
  },
  {
    method: "POST",
    path: "/groups/:group/receive",
    tag: "simple consumer",
    summary:
      "Receive (POP) up to 32 visible messages of a topic, each invisible to the group until acked or its invisible duration passes; long polls up to 20 s. May carry the acks of the batch before (ackReceiptHandles, answered in ackResults); a receive carrying acks does not wait. With `Accept: application/vnd.flaremq.framed` the answer is framed as a pull's",
    body: PopReceiveHttpSchema,
    auth: GROUP_SUB,
    bodyAuth: BODY_TOPIC_SUB,
    cost: "longPoll",
  },
  {
    method: "POST",
    path: "/groups/:group/ack",
    tag: "simple consumer",
    summary: "Ack received messages by receipt handle; each handle's status (OK, RECEIPT_HANDLE_EXPIRED, RECEIPT_HANDLE_INVALID)",
    body: PopAckSchema,
    auth: GROUP_SUB,
    bodyAuth: BODY_TOPIC_SUB,
  },
  {
    method: "POST",
    path: "/groups/:group/change-invisible",
    tag: "simple consumer",
    summary: "Change a received message's invisible duration (from now); answers its new receipt handle",
    body: PopChangeInvisibleSchema,
    auth: GROUP_SUB,
    bodyAuth: BODY_TOPIC_SUB,
  },
  {
    method: "PUT",
    path: "/groups/:group/push-subscription",
    tag: "push subscriptions",
    summary:
      "Create (201) or replace (200) the group's push subscription: batches of a topic delivered to a service binding or a signed HTTPS webhook; a new webhook's signing secret is answered once",
    body: PushSubscriptionRequestSchema,
    auth: GROUP_SUB,
    bodyAuth: BODY_TOPIC_SUB,
  },
  {
    method: "GET",
    path: "/groups/:group/push-subscription",
    tag: "push subscriptions",
    summary: "The group's push subscription (without its secret) and, per queue, lag, last delivery, last error and retry backlog",
    auth: GROUP_SUB,
    cost: "query",
  },
  {
    method: "POST",
    path: "/groups/:group/push-subscription/pause",
    tag: "push subscriptions",
    summary: "Pause the group's push subscription",
    auth: GROUP_SUB,
  },
  {
    method: "POST",
    path: "/groups/:group/push-subscription/resume",
    tag: "push subscriptions",
    summary: "Resume the group's push subscription",
    auth: GROUP_SUB,
  },
  {
    method: "DELETE",
    path: "/groups/:group/push-subscription",
    tag: "push subscriptions",
    summary: "Delete the group's push subscription (its offsets stay)",
    auth: GROUP_SUB,
  },
  {
    method: "GET",
    path: "/groups/:group/dlq",
    tag: "dlq",
    summary: "Messages in the group's dead-letter queue",
    query: [int("maxNum", "at most this many (default 100)")],
    auth: GROUP_SUB,
    cost: "query",
  },
  {
    method: "POST",
    path: "/groups/:group/dlq/resend",
    tag: "dlq",
    summary: "Resend dead-lettered messages to their original topic",
    body: DlqResendSchema,
    auth: ADMIN,
  },
  {
    method: "POST",
    path: "/groups/:group/dlq/delete",
    tag: "dlq",
    summary: "Delete dead-lettered messages below an offset",
    body: DlqDeleteSchema,
    auth: ADMIN,
  },
  // Public: the API's description is the same for every deployment (it is generated from this
  // table) and holds no data, and it is what a newcomer opens first (`npm start` prints /docs).
  { method: "GET", path: "/openapi.json", tag: "ops", summary: "This document", auth: { kind: "public" } },
  { method: "GET", path: "/docs", tag: "ops", summary: "This document as a page", auth: { kind: "public" } },
  { method: "GET", path: "/dashboard", tag: "ops", summary: "The web dashboard", auth: ANY },
  { method: "GET", path: "/dashboard/app.js", tag: "ops", summary: "The web dashboard's script (an ES module built from dashboard/app/)", auth: ANY },
  { method: "GET", path: "/dashboard/login", tag: "auth", summary: "Dashboard sign-in page (signs in the browser)", auth: { kind: "public" } },
  { method: "GET", path: "/auth/session", tag: "auth", summary: "The account (and session expiry) the request signs in as", auth: ANY },
  { method: "POST", path: "/auth/session", tag: "auth", summary: "A dashboard session token (and cookie) for a signed request", auth: ANY },
  {
    method: "DELETE",
    path: "/auth/session",
    tag: "auth",
    summary: "Sign out: the browser forgets its session cookie (the token stays valid until it expires)",
    auth: ANY,
  },
  { method: "GET", path: "/admin/accounts", tag: "auth", summary: "Accounts managed through the API (no secrets)", auth: ADMIN },
  { method: "PUT", path: "/admin/accounts/:accessKey", tag: "auth", summary: "Create or replace an account", body: AccountBodyDoc, auth: ADMIN },
  { method: "DELETE", path: "/admin/accounts/:accessKey", tag: "auth", summary: "Delete an account", auth: ADMIN },
];
