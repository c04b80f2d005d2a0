/**
 * A seeded, deterministic generator of malformed requests for every operation of the REST API.
 *
 * The operations come from the server's own OpenAPI document (generated 1:1 from
 * workers/openapi/operations.ts and the zod schemas), so a new route is fuzzed without a change
 * here. Request `i` of seed `s` is always the same request: each one draws from its own
 * mulberry32 stream seeded with (s, i), so concurrency does not change what is sent.
 *
 * Requests that could change state the test must find intact (its "protected" names) are only
 * generated when they are certain to be refused before any side effect; see `isSafe`.
 */
import { EDGE_BATCH_SHAPES, edgeBatch, edgeMessage, edgeSingle, overEdges, toWire, type OverEdge } from "./limit-edge.js";

// ---------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: a tiny 32-bit PRNG, good enough to pick fuzz inputs reproducibly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a run seed and a request index into the seed of that request's own stream. */
export function mixSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((n, [w]) => n + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) {
      if ((r -= w) < 0) return v;
    }
    return items[items.length - 1]![1];
  }
}

// ---------------------------------------------------------------------------------------------
// The operation table, read from /openapi.json

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The subset of JSON Schema that zod's toJSONSchema emits for the request schemas. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: Json[];
  const?: Json;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

export interface ApiParam {
  name: string;
  required: boolean;
  type: string;
}

export interface ApiOperation {
  /** "GET /groups/{group}/watch" */
  key: string;
  method: string;
  template: string;
  pathParams: string[];
  query: ApiParam[];
  body?: JsonSchema;
  regex: RegExp;
}

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: { type?: string };
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export function operationsFromOpenApi(doc: unknown): ApiOperation[] {
  const paths = (doc as { paths?: Record<string, Record<string, OpenApiOperation>> }).paths ?? {};
  const out: ApiOperation[] = [];
  for (const [template, byMethod] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      const params = op.parameters ?? [];
      const body = op.requestBody?.content?.["application/json"]?.schema;
      const operation: ApiOperation = {
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        query: params.filter((p) => p.in === "query").map((p) => ({ name: p.name, required: p.required ?? false, type: p.schema?.type ?? "string" })),
        regex: templateRegex(template),
      };
      if (body) operation.body = body;
      out.push(operation);
    }
  }
  return out;
}

function templateRegex(template: string): RegExp {
  const pattern = template
    .split(/(\{[A-Za-z]+\})/)
    .map((part) => (/^\{[A-Za-z]+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${pattern}$`);
}

// ---------------------------------------------------------------------------------------------
// The world the fuzzer knows: names that exist, names it must not change

export interface FuzzWorld {
  brokers: string[];
  now: number;
  /** Plausible values per kind of name; protected names are among them. */
  pools: {
    topic: string[];
    group: string[];
    producerGroup: string[];
    clientId: string[];
    transactionId: string[];
    offsetMsgId: string[];
    msgId: string[];
  };
  /** Names whose state must survive the run: only requests certain to be refused may carry them. */
  protectedNames: ReadonlySet<string>;
  /** Paths under these prefixes reconfigure the server (accounts): fuzzed with refused bodies only. */
  controlPlanePrefixes: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface FuzzRequest {
  index: number;
  /** The operation it was derived from and what was done to it, for the report. */
  op: string;
  mutations: string[];
  method: string;
  /** Raw request target (path and query) as sent: only characters U+0021..U+00FF. */
  target: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** True when the op's own schema certainly refuses the body (a 2xx would be a bug). */
  bodyRefused: boolean;
}

/** Methods the runtime's HTTP parser knows; anything else is answered by workerd itself (501). */
const OTHER_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "TRACE", "PURGE", "SEARCH"];
const MUTATING = new Set(["POST", "PUT", "DELETE", "PATCH"]);

const MiB = 1024 * 1024;
const bigCache = new Map<string, string>();
/** Big strings are built once and shared (strings are immutable). */
function big(char: string, length: number): string {
  const key = `${char}:${length}`;
  let s = bigCache.get(key);
  if (s === undefined) {
    s = char.repeat(length);
    bigCache.set(key, s);
  }
  return s;
}

/** Path segment values that are wrong for any parameter, in wire form. */
const GARBAGE_SEGMENTS = [
  "%20",
  "%09",
  "%00",
  "%00abc",
  "abc%00",
  "..",
  "%2e%2e",
  "%2E%2E",
  ".",
  "%2e",
  "...",
  "%2F",
  "a%2Fb",
  "..%2F..%2F",
  "%",
  "%%",
  "%zz",
  "%Z",
  "%C3%28",
  "%C0%AF",
  "%ED%A0%80",
  "%FF%FE",
  "%E2%80%AE",
  "%F0%9F%98%80",
  "%EF%BB%BF",
  "\u00e9",
  "\u00ff\u00fe",
  "%D1%82%D0%B5%D0%BC%D0%B0",
  "-1",
  "0",
  "1",
  "1.5",
  "1e3",
  "NaN",
  "Infinity",
  "-0",
  "+1",
  "0x10",
  "00",
  "007",
  "9007199254740993",
  "99999999999999999999",
  "18446744073709551616",
  "true",
  "null",
  "undefined",
  "[]",
  "{}",
  "%5B%5D",
  "%7B%7D",
  "'",
  "%22",
  "%3Cscript%3E",
  "%25",
  "%25RETRY%25x",
  "%25DLQ%25x",
  "%25RETRY%25",
  "%25DLQ%25",
  "TBW102",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "rmq_sys_x",
  "SCHEDULE_TOPIC_XXXX",
  "DefaultCluster",
  "broker-a",
  "broker-z",
  "BROKER-A",
  "%7C%7C",
  "*",
  "~",
  "a;b",
  "a,b",
  "a=b",
  "%3F",
  "%23",
  "%26",
  "%2B",
  "+",
  "a+b",
  "%5C",
  "\\",
  "^",
  "`",
  "%60",
  "|",
  "%7C",
  "_",
  "-",
  "__proto__",
  "constructor",
  "AQhicm9rZXItYQlUb3BpY1Rlc3QAAAAAAAAAAAAA",
  "AQ",
  "AQAA",
  "BgAAAAAAAAAAAAAAAAAAAA",
];

/** Long strings for any segment: around every name limit, and far over. */
const LONG_LENGTHS = [127, 128, 255, 256, 262, 263, 400, 401, 1000, 4096, 20_000];

function longSegment(rng: Rng): string {
  const n = rng.pick(LONG_LENGTHS);
  const unit = rng.pick(["a", "Z", "9", "_", "-", "%25", "%C3%A9"]);
  // n decoded characters (an encoded unit is one character; capped so the request line stays under 64 KiB)
  return big(unit, unit.startsWith("%") ? Math.min(n, 8000) : n);
}

/** Plausible value of a path parameter by its name (unencoded), or undefined if unknown. */
function plausibleParam(world: FuzzWorld, rng: Rng, name: string): string {
  const p = world.pools;
  switch (name) {
    case "broker":
      return rng.pick(world.brokers);
    case "topic":
      return rng.pick(p.topic);
    case "queueId":
      return String(rng.int(0, 3));
    case "offset":
      return String(rng.int(0, 6));
    case "group":
      return rng.chance(0.5) ? rng.pick(p.group) : rng.pick(p.producerGroup);
    case "clientId":
      return rng.pick(p.clientId);
    case "transactionId":
      return rng.pick(p.transactionId);
    case "offsetMsgId":
      return rng.pick(p.offsetMsgId);
    case "msgId":
      return rng.pick(p.msgId);
    default:
      return rng.pick(["fuzz", "fuzz_key_1", "abc", "x"]);
  }
}

/** A wrong value for a path parameter, in wire form (may be empty). */
function garbageParam(world: FuzzWorld, rng: Rng, name: string): { wire: string; what: string } {
  const kind = rng.weighted([
    [6, "list"],
    [2, "long"],
    [1, "empty"],
    [2, "swap"],
    [1, "unicode"],
    [1, "encodedName"],
  ] as const);
  switch (kind) {
    case "list":
      return { wire: rng.pick(GARBAGE_SEGMENTS), what: "garbage" };
    case "long":
      return { wire: longSegment(rng), what: "long" };
    case "empty":
      return { wire: "", what: "empty" };
    case "swap": {
      // numbers where names go and names where numbers go
      const numeric = name === "queueId" || name === "offset";
      const wire = numeric
        ? encodeURIComponent(rng.pick([...world.pools.topic, ...world.brokers, "abc"]))
        : String(rng.pick([0, 1, 42, -7, 65535, 65536, 2 ** 31, Number.MAX_SAFE_INTEGER]));
      return { wire, what: "swapped" };
    }
    case "unicode":
      return {
        wire: encodeURIComponent(rng.pick(["тема", "主题", "😀", "\u202etopic", "a\u0000b", "\u0001", "\u0002", "\ufeff", "\ud7ff", "é"])),
        what: "unicode",
      };
    case "encodedName": {
      // a plausible name, percent-encoded character by character (decodes to the same name)
      const plain = plausibleParam(world, rng, name);
      return { wire: [...plain].map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()).join(""), what: "fully-encoded" };
    }
  }
}

const INT_GARBAGE = [
  "-1",
  "1.5",
  "NaN",
  "Infinity",
  "-Infinity",
  "1e3",
  "",
  "0x1F",
  "+5",
  "%205",
  "5%20",
  "9007199254740993",
  "99999999999999999999",
  "00",
  "-0",
  "%00",
  "abc",
  "%C3%A9",
  "0b11",
  "1_000",
  "１２",
  "%EF%BC%91",
  "[]",
  "true",
  "%",
];
const STRING_GARBAGE = [
  "",
  "*",
  "%",
  "%zz",
  "%00",
  "%C3%28",
  "%E2%80%AE",
  "||",
  "a%20||%20b",
  "((((",
  "a%20BETWEEN",
  "a%20%3E%201e999",
  "a%20IN%20()",
  "'unterminated",
  "NOT%20NOT%20a",
  "TAGS%20IS%20NULL",
  "%0A",
  "null",
  "undefined",
  "SQL92",
  "TAG",
  "sql92",
  "PENDING",
  "pending",
  "GIVEN_UP",
  "a=b",
  "%26",
  "%3D",
  "a%20%3E%2099999999999999999999999",
  "a%20BETWEEN%205%20AND%201",
  "a%20%3D%20-9223372036854775809",
  "a%20IN%20('x'%2C%201)",
  "a%20LIKE%20'x'",
  encodeURIComponent("(".repeat(150) + "a > 1" + ")".repeat(150)),
  encodeURIComponent("NOT ".repeat(120) + "(a > 1)"),
  encodeURIComponent("a > 1 AND ".repeat(400) + "a > 1"),
  encodeURIComponent("TagA || ".repeat(600) + "TagB"),
];
const BOOL_GARBAGE = ["true", "TRUE", "1", "", "false", "yes", "%00", "true%00"];
/** Values of maxWaitMs a fuzzed request may carry: refused or at most a few ms, never a long hold. */
const WAIT_GARBAGE = ["-1", "1.5", "abc", "", "30001", "99999999999999999", "1e4", "0x10", "NaN", "1", "5", "25", "%30", "+0"];

function plausibleQuery(world: FuzzWorld, rng: Rng, p: ApiParam): string {
  switch (p.name) {
    case "offset":
      return String(rng.int(0, 6));
    case "maxNums":
    case "maxNum":
    case "max":
    case "limit":
      return String(rng.int(1, 32));
    case "timestamp":
    case "begin":
      return String(world.now - rng.int(0, 3_600_000));
    case "end":
      return String(world.now + rng.int(0, 3_600_000));
    case "generation":
      return String(rng.int(0, 3));
    case "expression":
      return encodeURIComponent(
        rng.pick([
          "*",
          "TagA",
          "TagA || TagB",
          "a > 1",
          "a BETWEEN 0 AND 3",
          "color IN ('red', 'x')",
          "TAGS = 'TagA'",
          "NOT (a > 1)",
          "a IS NULL",
          "KEYS = 'k1'",
          "a = 1.5 OR a <> 'x'",
        ]),
      );
    case "expressionType":
      return rng.pick(["TAG", "SQL92"]);
    case "group":
      return encodeURIComponent(rng.pick(world.pools.group));
    case "clientId":
      return encodeURIComponent(rng.pick(world.pools.clientId));
    case "state":
      return rng.pick(["PENDING", "COMMITTED", "ROLLED_BACK", "GIVEN_UP"]);
    case "key":
      return rng.pick(["k1", "order-1", "keep"]);
    case "topic":
      return encodeURIComponent(rng.pick(world.pools.topic));
    case "oneway":
      return rng.pick(["true", "false"]);
    default:
      return p.type === "integer" ? String(rng.int(0, 5)) : p.type === "boolean" ? "true" : "x";
  }
}

function garbageQueryValue(rng: Rng, p: ApiParam): string {
  if (rng.chance(0.08)) return big(rng.pick(["9", "a", "%25"]), rng.pick([300, 5000, 20_000]));
  if (p.type === "integer") return rng.pick(INT_GARBAGE);
  if (p.type === "boolean") return rng.pick(BOOL_GARBAGE);
  return rng.pick(STRING_GARBAGE);
}

/** Builds the query string. A parameter named maxWaitMs always comes first and never asks for a long hold. */
function buildQuery(world: FuzzWorld, rng: Rng, op: ApiOperation, mutations: string[], longPoll: boolean): string {
  const parts: string[] = [];
  const fuzz = rng.chance(0.45);
  if (longPoll) {
    if (fuzz && rng.chance(0.3)) {
      parts.push(`maxWaitMs=${rng.pick(WAIT_GARBAGE)}`);
      mutations.push("query:maxWaitMs");
    } else {
      parts.push("maxWaitMs=0");
    }
  }
  for (const p of op.query) {
    if (p.name === "maxWaitMs") continue;
    const include = p.required ? !(fuzz && rng.chance(0.15)) : rng.chance(0.5);
    if (!include) {
      if (p.required) mutations.push(`query:missing ${p.name}`);
      continue;
    }
    let value = plausibleQuery(world, rng, p);
    if (fuzz && rng.chance(0.4)) {
      value = garbageQueryValue(rng, p);
      mutations.push(`query:${p.name}`);
    }
    parts.push(`${p.name}=${value}`);
    if (fuzz && rng.chance(0.1)) {
      parts.push(`${p.name}=${garbageQueryValue(rng, p)}`);
      mutations.push(`query:duplicate ${p.name}`);
    }
  }
  if (fuzz && rng.chance(0.3)) {
    const junk = rng.pick([
      "&&&",
      "=",
      "=x",
      "a",
      "%",
      "%zz=%zz",
      "?x=1",
      "a[]=1&a[]=2",
      "a[b]=c",
      "__proto__=1",
      "constructor=x",
      "%00=%00",
      "x=" + big("y", 10_000),
      "offset=1&offset=2",
      "maxNums",
      "generation",
      "#frag",
      "%23=1",
      ";a=b",
    ]);
    parts.push(junk);
    mutations.push("query:junk");
  }
  if (op.query.length === 0 && !longPoll && fuzz && rng.chance(0.3)) {
    parts.push(`unknown=${rng.pick(STRING_GARBAGE)}`);
    mutations.push("query:unknown");
  }
  if (parts.length === 0) return "";
  return "?" + parts.join("&");
}

// ---------------------------------------------------------------------------------------------
// Bodies: a valid value from the schema, then mutations

/** A value the schema accepts (as far as JSON Schema can say), with names from the world. */
export function validValue(world: FuzzWorld, rng: Rng, schema: JsonSchema, key: string, depth = 0): Json {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum && schema.enum.length > 0) return rng.pick(schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.length > 0) return validValue(world, rng, rng.pick(alternatives), key, depth);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, Json> = {};
      if (schema.properties) {
        const required = new Set(schema.required ?? []);
        for (const [name, sub] of Object.entries(schema.properties)) {
          if (required.has(name) || (depth < 4 && rng.chance(0.4))) out[name] = validValue(world, rng, sub, name, depth + 1);
        }
      } else if (typeof schema.additionalProperties === "object") {
        const n = rng.int(0, 2);
        for (let i = 0; i < n; i++) {
          const name = rng.pick(["color", "size", "a", "region", "CHECK_IMMUNITY_TIME_IN_SECONDS", "DELAY", "TAGS"]);
          out[name] = validValue(world, rng, schema.additionalProperties, name === "a" || name.startsWith("CHECK") ? "numeric" : "value", depth + 1);
        }
      }
      return out;
    }
    case "array": {
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? 3, 3);
      const n = Math.max(min, rng.int(min, Math.max(min, max)));
      return Array.from({ length: n }, () => (schema.items ? validValue(world, rng, schema.items, singular(key), depth + 1) : 1));
    }
    case "string":
      return plausibleString(world, rng, key, schema);
    case "integer":
    case "number":
      return plausibleNumber(world, rng, key, schema);
    case "boolean":
      return rng.chance(0.5);
    default:
      return "x";
  }
}

function singular(key: string): string {
  if (key === "brokers") return "brokerName";
  if (key === "offsetMsgIds") return "offsetMsgId";
  if (key === "keys") return "key";
  return key;
}

function plausibleString(world: FuzzWorld, rng: Rng, key: string, schema: JsonSchema): string {
  const p = world.pools;
  switch (key) {
    case "topic":
      return rng.pick(p.topic);
    case "producerGroup":
    case "group":
      return rng.pick(key === "producerGroup" ? p.producerGroup : p.group);
    case "brokerName":
      return rng.pick(world.brokers);
    case "body":
      return rng.pick(["aGVsbG8gZnV6eg==", "eA==", "AAECAwQ=", "Zm9v"]);
    case "url":
      return rng.pick(["http://127.0.0.1:9/fuzz-hook", "https://example.invalid/hook"]);
    case "clientId":
      return rng.pick(p.clientId);
    case "expression":
      return rng.pick(["*", "TagA || TagB", "a > 1"]);
    case "tags":
      return rng.pick(["TagA", "TagB", "fuzz"]);
    case "key":
      return rng.pick(["k1", "order-1"]);
    case "msgId":
      return rng.pick(p.msgId);
    case "offsetMsgId":
      return rng.pick(p.offsetMsgId);
    case "zone":
      return "z1";
    case "secretKey":
      return "fuzz-secret-key-0123456789";
    case "numeric":
      return rng.pick(["1", "0", "-5", "1.5", "abc", "1e3", "NaN", "99999999999", "", " 7 "]);
  }
  const candidates = ["x", "fuzz_1", "A1", "value", "12345"];
  const pattern = schema.pattern ? new RegExp(schema.pattern) : undefined;
  const fits = candidates.filter((c) => (!pattern || pattern.test(c)) && c.length >= (schema.minLength ?? 0) && c.length <= (schema.maxLength ?? Infinity));
  return fits.length > 0 ? rng.pick(fits) : "x".repeat(Math.max(1, schema.minLength ?? 1));
}

function plausibleNumber(world: FuzzWorld, rng: Rng, key: string, schema: JsonSchema): number {
  let n: number;
  switch (key) {
    case "offset":
    case "queueOffset":
    case "beforeOffset":
      n = rng.int(0, 4);
      break;
    case "queueId":
      n = rng.int(0, 3);
      break;
    case "timestamp":
    case "bornTimestamp":
      n = world.now - rng.int(0, 3_600_000);
      break;
    case "deliverTimeMs":
      n = world.now + rng.int(-1000, 60_000);
      break;
    case "delayTimeLevel":
      n = rng.pick([0, 1, 2, 18]);
      break;
    case "delayLevel":
      n = rng.pick([-1, 0, 1, 3]);
      break;
    case "sessionTimeoutMs":
      n = rng.pick([3000, 10_000, 30_000]);
      break;
    case "heartbeatIntervalMs":
      n = rng.pick([500, 1000]);
      break;
    case "generation":
    case "offsetResetSeq":
    case "maxReconsumeTimes":
      n = rng.int(0, 3);
      break;
    default:
      n = rng.int(1, 3);
  }
  const lo = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -Infinity);
  const hi = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : Infinity);
  return Math.min(hi, Math.max(lo, n));
}

type Slot = { parent: Json[] | Record<string, Json>; key: string | number; schema: JsonSchema | undefined; name: string };

/** Every position in a value (with the schema expected there when known), for picking a mutation site. */
function slots(value: Json, schema: JsonSchema | undefined, name: string, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i, schema: schema?.items, name: singular(name) });
      slots(v, schema?.items, singular(name), out);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const sub = schema?.properties?.[k] ?? (typeof schema?.additionalProperties === "object" ? schema.additionalProperties : undefined);
      out.push({ parent: value, key: k, schema: sub, name: k });
      slots(v, sub, k, out);
    }
  }
  return out;
}

function setSlot(slot: Slot, v: Json): void {
  (slot.parent as Record<string | number, Json>)[slot.key] = v;
}
function getSlot(slot: Slot): Json {
  return (slot.parent as Record<string | number, Json>)[slot.key]!;
}

const WRONG_TYPES: Json[] = [null, true, false, 0, -1, 1.5, "", "x", "1", [], {}, [1, 2], { a: 1 }, [null], [[]]];
const BOUNDARY_NUMBERS = [
  -1,
  -0.5,
  0.5,
  1e21,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  5e-324,
  1025,
  33,
  32,
  30_001,
  300_001,
  2999,
  10_001,
  1001,
  65,
  19,
  0,
];
const STRING_JUNK = [
  "",
  " ",
  "\u0000",
  "\u0001",
  "\u0002",
  "a\u0001b",
  "\ud800",
  "\udfff",
  "\ud83d",
  "😀",
  "\u202e",
  "\ufeff",
  "тема",
  "||",
  "*",
  " TagA ",
  "Tag\nA",
  "a b",
  "\\",
  '"',
  "'",
  "%00",
  "../..",
  "%RETRY%x",
  "%DLQ%x",
  "TBW102",
  "${x}",
  "<script>",
  "9007199254740993",
  "-1",
  "NaN",
  "true",
  "null",
];
const BASE64_JUNK = ["***", "eA=", "e", "====", "eA==eA==", " eA== ", "eA\n==", "%%%", "-_-_", "ZZZZZ", "=eA=", "\u00ff\u00fe", "ｅＡ＝＝"];

export interface BodyPlan {
  text: string | Buffer;
  mutations: string[];
}

/** A JSON body for `schema`: valid, then (usually) broken in one to three ways. */
function buildBody(world: FuzzWorld, rng: Rng, schema: JsonSchema, mutate: boolean): BodyPlan {
  // Send bodies: often at the edge of every limit at once, or just over one (issue 12 item 1).
  if (schema.properties?.messages && rng.chance(0.25)) return limitEdgeBody(world, rng);
  const value = validValue(world, rng, schema, "");
  const mutations: string[] = [];
  if (!mutate) return { text: JSON.stringify(value), mutations };

  // Whole-body replacements first: not JSON at all, or JSON of the wrong shape.
  if (rng.chance(0.25)) return rawBody(rng, value, mutations);

  let deep: number | undefined;
  const rounds = rng.int(1, 3);
  for (let r = 0; r < rounds; r++) {
    const all = slots(value, schema, "");
    const kind = rng.weighted([
      [5, "wrongType"],
      [3, "deleteKey"],
      [3, "unknownKey"],
      [4, "number"],
      [4, "string"],
      [2, "hugeString"],
      [2, "arrayOverflow"],
      [1, "deepNest"],
      [2, "base64"],
      [1, "proto"],
      [2, "stringNumberSwap"],
    ] as const);
    const slot = all.length > 0 ? rng.pick(all) : undefined;
    switch (kind) {
      case "wrongType": {
        if (!slot) break;
        setSlot(slot, structuredClone(rng.pick(WRONG_TYPES)));
        mutations.push(`wrongType ${slot.name || "(root)"}`);
        break;
      }
      case "deleteKey": {
        const objects = all.filter((s) => !Array.isArray(s.parent));
        if (objects.length === 0) break;
        const s = rng.pick(objects);
        delete (s.parent as Record<string, Json>)[s.key as string];
        mutations.push(`deleteKey ${s.name}`);
        break;
      }
      case "unknownKey": {
        const objects: Record<string, Json>[] = [value, ...all.map(getSlot)].filter(
          (v): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v),
        );
        if (objects.length === 0) break;
        const name = rng.pick(["__fuzz", "constructor", "", " ", "Topic", "messages ", "toString", big("k", 300)]);
        rng.pick(objects)[name] = rng.pick(WRONG_TYPES);
        mutations.push("unknownKey");
        break;
      }
      case "number": {
        const numbers = all.filter((s) => typeof getSlot(s) === "number");
        if (numbers.length === 0) break;
        const s = rng.pick(numbers);
        // Never a valid large queue count: a 1,000-queue topic makes every later fan-out slow.
        const choices = /queueNums$/i.test(s.name) ? [0, -1, 1025, 1.5, 2 ** 31, 1e308] : BOUNDARY_NUMBERS;
        setSlot(s, rng.pick(choices));
        mutations.push(`number ${s.name}`);
        break;
      }
      case "string": {
        const strings = all.filter((s) => typeof getSlot(s) === "string");
        if (strings.length === 0) break;
        const s = rng.pick(strings);
        setSlot(s, rng.pick(STRING_JUNK));
        mutations.push(`string ${s.name}`);
        break;
      }
      case "hugeString": {
        const strings = all.filter((s) => typeof getSlot(s) === "string");
        if (strings.length === 0) break;
        const s = rng.pick(strings);
        const max = s.schema?.maxLength;
        const lengths = [256, 4096, 4097, 20_000, 32 * 1024, 32 * 1024 + 1];
        if (max !== undefined) lengths.push(max, max + 1);
        if (s.name === "body" || rng.chance(0.05)) lengths.push(4 * MiB, 4 * MiB + 1, Math.ceil((4 * MiB * 4) / 3) + 4);
        const n = rng.pick(lengths);
        setSlot(s, big(s.name === "body" ? "QUFB" : "a", s.name === "body" ? Math.ceil(n / 4) : n).slice(0, n));
        mutations.push(`hugeString ${s.name} ${n}`);
        break;
      }
      case "arrayOverflow": {
        const arrays = all.filter((s) => Array.isArray(getSlot(s)) && s.schema?.maxItems !== undefined);
        if (arrays.length === 0) break;
        const s = rng.pick(arrays);
        const max = s.schema!.maxItems!;
        const n = rng.pick([max, max + 1]);
        const item = s.schema!.items ? validValue(world, rng, s.schema!.items, singular(s.name)) : 1;
        setSlot(
          s,
          Array.from({ length: n }, () => structuredClone(item)),
        );
        mutations.push(`array ${s.name} x${n}`);
        break;
      }
      case "deepNest": {
        if (!slot) break;
        setSlot(slot, "__FUZZ_DEEP__");
        deep = rng.pick([64, 1000, 100_000]);
        mutations.push(`deepNest ${slot.name} ${deep}`);
        break;
      }
      case "base64": {
        const bodies = all.filter((s) => s.name === "body" && typeof getSlot(s) === "string");
        if (bodies.length === 0) break;
        setSlot(rng.pick(bodies), rng.pick(BASE64_JUNK));
        mutations.push("base64 garbage");
        break;
      }
      case "proto": {
        const v = rng.pick(['{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}']);
        Object.assign(value as object, JSON.parse(v) as object);
        mutations.push("proto");
        break;
      }
      case "stringNumberSwap": {
        if (!slot) break;
        const v = getSlot(slot);
        if (typeof v === "number") setSlot(slot, String(v));
        else if (typeof v === "string") setSlot(slot, Number.isNaN(Number(v)) ? 7 : Number(v));
        else break;
        mutations.push(`typeSwap ${slot.name}`);
        break;
      }
    }
  }
  let text = JSON.stringify(value);
  if (deep !== undefined) {
    const open = rng.chance(0.5) ? "[" : '{"a":';
    const close = open === "[" ? "]" : "}";
    text = text.replace('"__FUZZ_DEEP__"', big(open, deep) + "1" + big(close, deep));
  }
  return { text, mutations };
}

/** A body that is not JSON, or JSON of the wrong shape, or encoded wrongly. */
function rawBody(rng: Rng, valid: Json, mutations: string[]): BodyPlan {
  const validText = JSON.stringify(valid);
  const kind = rng.weighted([
    [3, "junk"],
    [2, "wrongTop"],
    [1, "binary"],
    [1, "bom"],
    [1, "trailing"],
    [1, "utf16"],
    [1, "badUtf8"],
    [1, "bigNumber"],
    [1, "dupKeys"],
    [1, "deep"],
    [0.3, "oversized"],
  ] as const);
  mutations.push(`raw:${kind}`);
  switch (kind) {
    case "junk":
      return {
        text: rng.pick([
          "",
          " ",
          "{",
          "{not json",
          "}",
          "[",
          "{'a':1}",
          '{"a":}',
          '{"a" 1}',
          "/* c */ {}",
          "a=1&b=2",
          "<a/>",
          "\u0000",
          "nul",
          "tru",
          '"',
          '{"offset": NaN}',
          '{"offset": Infinity}',
          "{,}",
          "[,]",
          "1 2",
        ]),
        mutations,
      };
    case "wrongTop":
      return { text: rng.pick(["null", "true", "false", "0", "-1", "1.5", '"str"', "[]", "[{}]", `[${validText}]`, "{}", '""']), mutations };
    case "binary": {
      const n = rng.int(1, 4096);
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = rng.int(0, 255);
      return { text: bytes, mutations };
    }
    case "bom":
      return { text: "\ufeff" + validText, mutations };
    case "trailing":
      return { text: validText + rng.pick(["}", "{}", " x", "\u0000", ",", "]"]), mutations };
    case "utf16":
      return { text: Buffer.from(validText, "utf16le"), mutations };
    case "badUtf8": {
      const at = Math.max(1, validText.indexOf('"') + 1);
      const bad = Buffer.from(rng.pick([[0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]));
      return { text: Buffer.concat([Buffer.from(validText.slice(0, at)), bad, Buffer.from(validText.slice(at))]), mutations };
    }
    case "bigNumber":
      return {
        text: validText.replace(
          /(:)(-?\d+(?:\.\d+)?)/,
          `$1${rng.pick(["1e400", "-1e400", "1" + big("0", 400), "-0", "0.0000000000000000000001", "1E2", "01"])}`,
        ),
        mutations,
      };
    case "dupKeys":
      return { text: validText.replace(/^\{"([^"]+)":/, (_m, k: string) => `{"${k}":${rng.pick(['"x"', "null", "[]", "{}"])},"${k}":`), mutations };
    case "deep": {
      const n = rng.pick([1000, 100_000]);
      return { text: rng.chance(0.5) ? big("[", n) + big("]", n) : big('{"a":', n) + "1" + big("}", n), mutations };
    }
    case "oversized":
      // Over the 6 MiB request cap (and under the 24 MiB the edge drains, so the answer arrives).
      return { text: `{"messages":[{"body":"${big("A", 7 * MiB)}","bodyEncoding":"utf8"}]}`, mutations };
  }
}

let overs: OverEdge[] | undefined;

/** Serialized message lists at the edge of the limits, built once: each is megabytes. */
const edgeTexts = new Map<string, string>();

function edgeText(kind: string, build: () => Json): string {
  let text = edgeTexts.get(kind);
  if (text === undefined) {
    text = JSON.stringify(build());
    edgeTexts.set(kind, text);
  }
  return text;
}

/**
 * A send body at the edge of every documented limit (test/fuzz/limit-edge.ts): within them
 * through each send mode (batch shapes, a 4 MiB message, timer, delay level, transaction), which
 * must never be answered with a 5xx, or just over one, which must get its documented 4xx.
 */
function limitEdgeBody(world: FuzzWorld, rng: Rng): BodyPlan {
  overs ??= overEdges("FZO");
  const kind = rng.weighted<string>([
    ...EDGE_BATCH_SHAPES.map((shape) => [2, `batch:${shape}`] as const),
    [2, "single"],
    [2, "timer"],
    [2, "delayed"],
    [2, "transaction"],
    ...overs.map((o) => [1, `over:${o.name}`] as const),
  ]);
  const wire = (messages: readonly Parameters<typeof toWire>[0][]) => messages.map((m) => toWire(m)) as unknown as Json;
  let messages: string;
  let extra = "";
  if (kind.startsWith("batch:")) {
    const shape = kind.slice("batch:".length) as (typeof EDGE_BATCH_SHAPES)[number];
    messages = edgeText(kind, () => wire(edgeBatch("FZ", shape)));
  } else if (kind.startsWith("over:")) {
    messages = edgeText(kind, () => overs!.find((o) => `over:${o.name}` === kind)!.messages as unknown as Json);
  } else if (kind === "timer" || kind === "delayed") {
    // One message each (a delayed batch is refused); due during the run or soon after.
    const m = toWire(edgeMessage("FZD", 0)) as unknown as Record<string, Json>;
    const due = kind === "timer" ? { deliverTimeMs: world.now + rng.int(0, 60_000) } : { delayTimeLevel: rng.int(1, 3) };
    messages = JSON.stringify([{ ...m, ...due }]);
  } else {
    messages = edgeText("single", () => wire([edgeSingle("FZS")]));
    if (kind === "transaction") {
      const groups = world.pools.producerGroup.filter((g) => !world.protectedNames.has(g));
      extra = `,"transaction":${JSON.stringify({ producerGroup: rng.pick(groups) })}`;
    }
  }
  return { text: `{"messages":${messages}${extra}}`, mutations: [`limitEdge ${kind}`] };
}

const CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=----fuzz",
  "application/json; charset=utf-16",
  "application/octet-stream",
  "*/*",
  "application/jsonx",
  "APPLICATION/JSON",
  "application/json;;;charset=",
  "json",
  "application/xml",
  'a/b; c="d"',
];

// ---------------------------------------------------------------------------------------------
// Safety: what a request may change

/** True when the body certainly fails `schema` at its top level (refused before any side effect). */
export function certainlyRefused(schema: JsonSchema | undefined, body: string | Buffer | undefined): boolean {
  if (!schema) return false;
  if (body === undefined) return true;
  let value: unknown;
  try {
    // As the server reads it: UTF-8 decoded with replacement, a leading BOM dropped, then JSON.parse.
    value = JSON.parse(new TextDecoder().decode(typeof body === "string" ? Buffer.from(body) : body));
  } catch {
    return true;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return true;
  const obj = value as Record<string, unknown>;
  const props = schema.properties ?? {};
  for (const name of schema.required ?? []) if (!Object.hasOwn(obj, name)) return true;
  if (schema.additionalProperties === false) {
    for (const k of Object.keys(obj)) if (k !== "__proto__" && !Object.hasOwn(props, k)) return true;
  }
  for (const [k, sub] of Object.entries(props)) {
    if (!Object.hasOwn(obj, k)) continue;
    const v = obj[k];
    const t = typeof sub.type === "string" ? sub.type : undefined;
    if (t === "string" && typeof v !== "string") return true;
    if ((t === "integer" || t === "number") && typeof v !== "number") return true;
    if (t === "boolean" && typeof v !== "boolean") return true;
    if (t === "array" && !Array.isArray(v)) return true;
    if (t === "object" && (v === null || typeof v !== "object" || Array.isArray(v))) return true;
  }
  return false;
}

export interface Classification {
  /** The path after the URL parser resolved dot segments (as the server sees it). */
  effectivePath: string;
  /** Operations of any method whose template matches the effective path. */
  candidates: ApiOperation[];
  touchesProtected: boolean;
}

export function classify(world: FuzzWorld, ops: readonly ApiOperation[], target: string): Classification {
  let url: URL;
  try {
    url = new URL(target, "http://fuzz.invalid");
  } catch {
    return { effectivePath: target, candidates: [], touchesProtected: true };
  }
  const effectivePath = url.pathname;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const values = [...effectivePath.split("/").map(decode), ...[...url.searchParams.values()]];
  // Raw latin1 characters reach the server as bytes; compare their UTF-8-decoded reading too.
  const touchesProtected = values.some((v) => world.protectedNames.has(v) || [...world.protectedNames].some((n) => v.includes(n)));
  return { effectivePath, candidates: ops.filter((op) => op.regex.test(effectivePath)), touchesProtected };
}

/**
 * May this request be sent? A request that can change state must neither touch a protected
 * name nor reconfigure the server, unless every operation it can reach refuses its body
 * before doing anything.
 */
export function isSafe(world: FuzzWorld, ops: readonly ApiOperation[], req: { method: string; target: string; body?: Buffer }): boolean {
  const method = req.method.toUpperCase();
  if (!MUTATING.has(method)) return true;
  const c = classify(world, ops, req.target);
  const reachable = c.candidates.filter((op) => op.method === method);
  const allRefuse = reachable.length > 0 && reachable.every((op) => certainlyRefused(op.body, req.body));
  if (c.touchesProtected && !allRefuse) return false;
  const controlPlane = world.controlPlanePrefixes.some((p) => c.effectivePath.startsWith(p));
  if (controlPlane && method !== "DELETE" && !allRefuse) return false;
  return true;
}

/** The operations a long poll could be reached through: they must carry maxWaitMs first. */
function isLongPollPath(ops: readonly ApiOperation[], effectivePath: string): boolean {
  return ops.some((op) => op.query.some((q) => q.name === "maxWaitMs") && op.regex.test(effectivePath));
}

/** Replaces characters Node will not put on a request line by their UTF-8 percent-encoding. */
function wireSafe(target: string): string {
  return target.replace(/[^\u0021-\u00ff]/gu, (c) => encodeURIComponent(c));
}

export function generateRequest(world: FuzzWorld, ops: readonly ApiOperation[], seed: number, index: number): FuzzRequest {
  const rng = new Rng(mixSeed(seed, index));
  for (let attempt = 0; ; attempt++) {
    const req = draft(world, ops, rng, index, attempt > 0);
    if (isSafe(world, ops, req)) return req;
    if (attempt >= 20) {
      // Give up on this shape: an unmistakably refused body keeps it harmless.
      const fallback = { ...req, body: Buffer.from("{"), bodyRefused: true, mutations: [...req.mutations, "forced-invalid-json"] };
      if (isSafe(world, ops, fallback)) return fallback;
      return { ...fallback, method: "GET", mutations: [...fallback.mutations, "forced-GET"] };
    }
  }
}

function draft(world: FuzzWorld, ops: readonly ApiOperation[], rng: Rng, index: number, retry: boolean): FuzzRequest {
  const op = rng.pick(ops);
  const mutations: string[] = [];
  // Path
  let path = op.template;
  const garbagePath = op.pathParams.length > 0 && rng.chance(0.35);
  const garbageIndex = garbagePath ? rng.int(0, op.pathParams.length - 1) : -1;
  op.pathParams.forEach((name, i) => {
    let wire: string;
    if (i === garbageIndex || (garbagePath && rng.chance(0.15))) {
      const g = garbageParam(world, rng, name);
      wire = g.wire;
      mutations.push(`path:${name} ${g.what}`);
    } else {
      let value = plausibleParam(world, rng, name);
      if (retry && world.protectedNames.has(value)) value = plausibleParam(world, rng, name);
      wire = encodeURIComponent(value);
    }
    path = path.replace(`{${name}}`, () => wire);
  });
  // Method
  let method = op.method;
  if (rng.chance(0.08)) {
    method = rng.pick(OTHER_METHODS.filter((m) => m !== op.method));
    mutations.push(`method ${method}`);
  }
  // Query (maxWaitMs first where a long poll may be reached)
  let effective: string;
  try {
    effective = new URL(path, "http://fuzz.invalid").pathname;
  } catch {
    effective = path;
  }
  const query = buildQuery(world, rng, op, mutations, isLongPollPath(ops, effective));
  const target = wireSafe(path + query);
  // Body and content type
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  const sameOp = method === op.method;
  if (op.body && sameOp) {
    const plan = buildBody(world, rng, op.body, rng.chance(0.7));
    mutations.push(...plan.mutations);
    body = typeof plan.text === "string" ? Buffer.from(plan.text) : plan.text;
    headers["content-type"] = "application/json";
  } else if (op.body || rng.chance(0.12)) {
    const plan = rawBody(rng, {}, []);
    body = typeof plan.text === "string" ? Buffer.from(plan.text) : plan.text;
    headers["content-type"] = "application/json";
    mutations.push("unexpected body");
  }
  if (body !== undefined && rng.chance(0.12)) {
    if (rng.chance(0.2)) delete headers["content-type"];
    else headers["content-type"] = rng.pick(CONTENT_TYPES);
    mutations.push(`content-type ${headers["content-type"] ?? "(none)"}`);
  }
  if (rng.chance(0.04)) {
    headers["x-request-id"] = rng.pick(["", " ", big("r", 200), "\u00e9\u00ff", "../../etc", "a,b"]);
    mutations.push("x-request-id");
  }
  if (rng.chance(0.03)) {
    // Around the 32 KiB header cap (the runtime itself takes far more).
    headers["x-fuzz-pad"] = big("h", rng.pick([1000, 32 * 1024 - 100, 32 * 1024, 40_000]));
    mutations.push(`header pad ${headers["x-fuzz-pad"].length}`);
  }
  if (rng.chance(0.04)) {
    // Credentials that mean nothing to a server without accounts.
    const auth = rng.pick([
      { authorization: "Bearer junk" },
      { authorization: "Bearer " + big("t", 500) },
      { cookie: "flaremq_session=junk; other=1" },
      { "x-mq-access-key": "nobody", "x-mq-date": "0", "x-mq-nonce": "n", "x-mq-content-sha256": "00", "x-mq-signature": "zz" },
      { "x-mq-access-key": "%00" },
    ]);
    Object.assign(headers, auth);
    mutations.push("credentials");
  }
  if (body !== undefined && rng.chance(0.03)) {
    headers["content-encoding"] = rng.pick(["gzip", "br", "deflate", "identity", "x-fuzz"]);
    mutations.push(`content-encoding ${headers["content-encoding"]}`);
  }
  const req: FuzzRequest = {
    index,
    op: op.key,
    mutations,
    method,
    target,
    headers,
    bodyRefused: sameOp && !!op.body && certainlyRefused(op.body, body),
  };
  if (body !== undefined) req.body = body;
  return req;
}
