/**
 * `npm run docs:api`: writes docs/http-api.md from the OpenAPI document the Worker serves at
 * /openapi.json (workers/openapi/document.ts, built from the operation table in
 * workers/openapi/operations.ts and the zod schemas the handlers validate with). The HTTP
 * reference is therefore never a hand-kept copy of the route table; `npm test` fails when the
 * committed page differs from what this script generates (gen-http-api-doc.test.ts).
 * `npm run docs:api -- --check` only compares, and exits 1 when the page is stale.
 *
 * The workers layer is type-checked under tsconfig.json (Workers types), this script under
 * tsconfig.node.json: a static import would pull the whole edge (Env, object stubs) into the
 * Node program, where those types do not exist. So the two modules are loaded at run time and
 * the parts this script reads are checked with zod: a changed shape fails loudly here instead
 * of printing a quietly wrong page.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { MQError, isErrorCode } from "../protocol/errors.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const HTTP_API_DOC_PATH = path.join(ROOT, "docs", "http-api.md");
const DOCUMENT_MODULE = path.join(ROOT, "workers", "openapi", "document.ts");
const OPERATIONS_MODULE = path.join(ROOT, "workers", "openapi", "operations.ts");

/** The part of JSON Schema (draft 2020-12, as zod's toJSONSchema writes it) this page shows. */
export interface JsonSchemaNode {
  type?: string | undefined;
  properties?: Record<string, JsonSchemaNode> | undefined;
  required?: string[] | undefined;
  items?: JsonSchemaNode | undefined;
  additionalProperties?: boolean | JsonSchemaNode | undefined;
  propertyNames?: JsonSchemaNode | undefined;
  enum?: (string | number)[] | undefined;
  const?: string | number | boolean | undefined;
  anyOf?: JsonSchemaNode[] | undefined;
  minimum?: number | undefined;
  maximum?: number | undefined;
  exclusiveMinimum?: number | undefined;
  minLength?: number | undefined;
  maxLength?: number | undefined;
  minItems?: number | undefined;
  maxItems?: number | undefined;
  pattern?: string | undefined;
  description?: string | undefined;
}

const JsonSchemaNodeSchema: z.ZodType<JsonSchemaNode> = z.lazy(() =>
  z.object({
    type: z.string().optional(),
    properties: z.record(z.string(), JsonSchemaNodeSchema).optional(),
    required: z.array(z.string()).optional(),
    items: JsonSchemaNodeSchema.optional(),
    additionalProperties: z.union([z.boolean(), JsonSchemaNodeSchema]).optional(),
    propertyNames: JsonSchemaNodeSchema.optional(),
    enum: z.array(z.union([z.string(), z.number()])).optional(),
    const: z.union([z.string(), z.number(), z.boolean()]).optional(),
    anyOf: z.array(JsonSchemaNodeSchema).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    exclusiveMinimum: z.number().optional(),
    minLength: z.number().optional(),
    maxLength: z.number().optional(),
    minItems: z.number().optional(),
    maxItems: z.number().optional(),
    pattern: z.string().optional(),
    description: z.string().optional(),
  }),
);

const ParameterSchema = z.object({
  name: z.string(),
  in: z.enum(["path", "query"]),
  required: z.boolean(),
  description: z.string().optional(),
  schema: z.object({ type: z.string() }),
});

const OperationObjectSchema = z.object({
  tags: z.array(z.string()).min(1),
  summary: z.string(),
  parameters: z.array(ParameterSchema),
  responses: z.record(z.string(), z.object({ description: z.string() })),
  requestBody: z.object({ content: z.object({ "application/json": z.object({ schema: JsonSchemaNodeSchema }) }) }).optional(),
});

/** The part of the OpenAPI 3.1 document this page shows. */
const OpenApiSchema = z.object({
  openapi: z.string(),
  info: z.object({ title: z.string(), version: z.string(), description: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), OperationObjectSchema)),
  components: z.object({
    schemas: z.object({ Error: z.object({ properties: z.object({ code: z.object({ enum: z.array(z.string()) }) }) }) }),
  }),
});
export type OpenApiDocument = z.infer<typeof OpenApiSchema>;

/** Who may call an operation, as the operation table states it (protocol/auth/permissions.ts `Requirement`). */
export type Requirement =
  | { kind: "public" }
  | { kind: "any" }
  | { kind: "admin" }
  | { kind: "topic" | "group"; param: string; action: "PUB" | "SUB" }
  | { kind: "all"; of: Requirement[] };

const RequirementSchema: z.ZodType<Requirement> = z.lazy(() =>
  z.union([
    z.object({ kind: z.enum(["public", "any", "admin"]) }),
    z.object({ kind: z.enum(["topic", "group"]), param: z.string(), action: z.enum(["PUB", "SUB"]) }),
    z.object({ kind: z.literal("all"), of: z.array(RequirementSchema) }),
  ]),
);

/** What the OpenAPI document leaves out and the operation table says: access and cost. */
const OperationAccessSchema = z.object({
  method: z.string(),
  path: z.string(),
  auth: RequirementSchema,
  bodyAuth: RequirementSchema.optional(),
  cost: z.enum(["query", "longPoll"]).optional(),
});
export type OperationAccess = z.infer<typeof OperationAccessSchema>;

export interface ApiSources {
  document: OpenApiDocument;
  operations: OperationAccess[];
}

/** Loads the document and the operation table from the workers layer, checking their shape. */
export async function loadApiSources(): Promise<ApiSources> {
  const documentModule = z
    .object({ openApiDocument: z.custom<() => unknown>((v) => typeof v === "function") })
    .parse(await import(pathToFileURL(DOCUMENT_MODULE).href));
  const operationsModule = z.object({ operations: z.array(z.unknown()) }).parse(await import(pathToFileURL(OPERATIONS_MODULE).href));
  return {
    document: OpenApiSchema.parse(documentModule.openApiDocument()),
    operations: z.array(OperationAccessSchema).parse(operationsModule.operations),
  };
}

/** Section headings per OpenAPI tag, in page order; a tag not listed here follows under its own name. */
const TAG_TITLES: readonly (readonly [string, string])[] = [
  ["namesrv", "NameServer: topics, routes, brokers"],
  ["broker", "Broker queues: send, pull, offsets"],
  ["transactions", "Transactions and check-backs"],
  ["consumers", "Consumer groups"],
  ["dlq", "Dead-letter queues"],
  ["query", "Message queries"],
  ["auth", "Accounts and dashboard sessions"],
  ["ops", "Health, API description, dashboard, test faults"],
];

/** Hand-written conventions that hold for every operation below; the operations themselves are generated. */
const CONVENTIONS = `## Conventions

- **Bodies** are JSON (\`content-type: application/json\`), answers too. Message bodies travel
  as base64; \`"bodyEncoding": "utf8"\` sends a text body as is.
- **Errors** are \`{ "code": "TOPIC_NOT_EXIST", "message": "...", "requestId": "..." }\` with a
  4xx or 5xx status; the codes are listed at the end of this page. The client rebuilds them as
  \`MQError\`s with the same \`code\`, \`status\` and a \`retriable\` flag.
- **Signing.** Once a server has an account, every operation except the public ones needs a
  signed request (headers \`x-mq-access-key\`, \`x-mq-date\`, \`x-mq-nonce\`,
  \`x-mq-content-sha256\`, \`x-mq-signature\`; see [operations.md](operations.md#security)) or a
  dashboard session, and the account must hold what "Access" names. An admin account may call
  everything. The client and the CLI sign for you.
- **Cost.** Operations marked *query* are rate limited per key (429 \`RATE_LIMITED\` with
  \`Retry-After\`); *long poll* operations count against the open long polls of a key. The
  figures are in [limits.md](limits.md).
- **Pull answers** carry \`pullStatus\`: \`FOUND\`, \`NO_NEW_MSG\` (after waiting up to
  \`maxWaitMs\`; a send to the queue wakes the pull at once), \`NO_MATCHED_MSG\` (the filter
  matched nothing; \`nextBeginOffset\` moved past what was scanned) or \`OFFSET_ILLEGAL\`
  (\`nextBeginOffset\` says where to go), plus \`minOffset\`, \`maxOffset\`, and
  \`suggestWhichBrokerId\` with the \`brokerId\` that answered.

Against a local server without accounts (\`npm run dev\`, or the local runner with none
configured), from the same machine, plain \`curl\` works:

\`\`\`sh
curl -X POST localhost:8787/brokers/broker-a/topics/TopicTest/queues/0/messages \\
  -H 'content-type: application/json' -d '{"messages":[{"body":"hello","bodyEncoding":"utf8","tags":"TagA"}]}'
curl 'localhost:8787/brokers/broker-a/topics/TopicTest/queues/0/messages?offset=0&maxWaitMs=0'
\`\`\`

\`npm start\` creates a dev account, after which requests must be signed.
`;

/** Renders the whole page. Pure: the same sources give the same text, byte for byte. */
export function renderHttpApiDoc(sources: ApiSources): string {
  const { document, operations } = sources;
  const access = new Map(operations.map((o) => [`${o.method.toUpperCase()} ${openApiPath(o.path)}`, o]));
  const byTag = new Map<string, { method: string; path: string; op: OpenApiDocument["paths"][string][string] }[]>();
  for (const [p, ops] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags[0]!;
      let list = byTag.get(tag);
      if (!list) byTag.set(tag, (list = []));
      list.push({ method: method.toUpperCase(), path: p, op });
    }
  }
  const tags = [...TAG_TITLES.map(([t]) => t).filter((t) => byTag.has(t)), ...[...byTag.keys()].filter((t) => !TAG_TITLES.some(([k]) => k === t)).sort()];
  const title = (tag: string) => TAG_TITLES.find(([t]) => t === tag)?.[1] ?? tag;

  const out: string[] = [];
  out.push("# HTTP API");
  out.push("");
  out.push(
    "<!-- Generated by `npm run docs:api` (scripts/gen-http-api-doc.ts). Do not edit: `npm test` fails when this page differs from what the script generates. -->",
  );
  out.push("");
  out.push(
    `${document.info.description} This page is generated from the OpenAPI ${document.openapi} document the Worker serves at ` +
      "`/openapi.json` (and as a page at `/docs`), which is built from the operation table " +
      "(`workers/openapi/operations.ts`) and the zod schemas every request is validated with; a test checks that it " +
      "lists exactly the routes the Worker serves.",
  );
  out.push("");
  out.push(CONVENTIONS);
  out.push("## Operations");
  out.push("");
  for (const tag of tags) {
    out.push(`- [${title(tag)}](#${githubSlug(title(tag))})`);
  }
  out.push("- [Error codes](#error-codes)");
  out.push("");
  for (const tag of tags) {
    const list = byTag.get(tag)!;
    out.push(`## ${title(tag)}`);
    out.push("");
    out.push("| method and path | what | access |");
    out.push("|---|---|---|");
    for (const { method, path: p, op } of list) {
      const heading = `${method} ${p}`;
      out.push(`| [\`${heading}\`](#${githubSlug(heading)}) | ${cell(op.summary)} | ${cell(accessText(access.get(heading)))} |`);
    }
    out.push("");
    for (const { method, path: p, op } of list) {
      out.push(...renderOperation(method, p, op, access.get(`${method} ${p}`)));
    }
  }
  out.push("## Error codes");
  out.push("");
  out.push("Every error answer names one of these codes. *Retriable* codes may be tried again (the client does, where the call allows it).");
  out.push("");
  out.push("| code | HTTP status | retriable |");
  out.push("|---|---:|---|");
  for (const code of document.components.schemas.Error.properties.code.enum) {
    if (!isErrorCode(code)) throw new Error(`the document names an error code protocol/errors.ts does not know: ${code}`);
    const e = new MQError(code, code);
    out.push(`| \`${code}\` | ${e.status} | ${e.retriable ? "yes" : "no"} |`);
  }
  out.push("");
  return out.join("\n");
}

function renderOperation(method: string, p: string, op: OpenApiDocument["paths"][string][string], access: OperationAccess | undefined): string[] {
  const out: string[] = [];
  out.push(`### ${method} ${p}`);
  out.push("");
  out.push(`${op.summary}.`);
  out.push("");
  out.push(`- Access: ${accessText(access)}`);
  const success = Object.keys(op.responses).filter((s) => /^\d+$/.test(s));
  out.push(`- Success: ${success.join(", ")}`);
  const pathParams = op.parameters.filter((x) => x.in === "path");
  if (pathParams.length > 0) out.push(`- Path: ${pathParams.map((x) => `\`${x.name}\` (${x.schema.type})`).join(", ")}`);
  out.push("");
  const query = op.parameters.filter((x) => x.in === "query");
  if (query.length > 0) {
    out.push("| query parameter | type | required | meaning |");
    out.push("|---|---|---|---|");
    for (const q of query) out.push(`| \`${q.name}\` | ${q.schema.type} | ${q.required ? "yes" : "no"} | ${cell(q.description ?? "")} |`);
    out.push("");
  }
  const body = op.requestBody?.content["application/json"].schema;
  if (body) {
    out.push("| body field | type | required | constraints |");
    out.push("|---|---|---|---|");
    for (const f of bodyFields(body, "")) out.push(`| \`${cell(f.name)}\` | ${cell(f.type)} | ${f.required ? "yes" : "no"} | ${cell(f.constraints)} |`);
    out.push("");
  }
  return out;
}

export interface BodyField {
  name: string;
  type: string;
  required: boolean;
  constraints: string;
}

/** Flattens an object schema into one row per field: nested objects as `a.b`, arrays of objects as `a[].b`. */
export function bodyFields(schema: JsonSchemaNode, prefix: string): BodyField[] {
  const rows: BodyField[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const full = `${prefix}${name}`;
    rows.push({ name: full, type: typeText(prop), required: required.has(name), constraints: constraintText(prop) });
    if (prop.properties) rows.push(...bodyFields(prop, `${full}.`));
    else if (prop.items?.properties) rows.push(...bodyFields(prop.items, `${full}[].`));
  }
  return rows;
}

function typeText(s: JsonSchemaNode): string {
  if (s.anyOf) return s.anyOf.map(typeText).join(" or ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === "array") return s.items ? `array of ${s.items.properties ? "objects" : typeText(s.items)}` : "array";
  if (s.type === "object" && !s.properties && typeof s.additionalProperties === "object") {
    return `map of ${s.propertyNames ? typeText(s.propertyNames) : "string"} to ${typeText(s.additionalProperties)}`;
  }
  return s.type ?? "any";
}

/** Past this, a bound is only JavaScript's safe-integer limit, not a rule worth reading. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function constraintText(s: JsonSchemaNode): string {
  const parts: string[] = [];
  const range = (lo: number | undefined, hi: number | undefined, unit: string): void => {
    const top = hi === undefined || hi >= MAX_SAFE ? undefined : hi;
    if (lo !== undefined && top !== undefined) parts.push(lo === top ? `exactly ${lo}${unit}` : `${lo}–${top}${unit}`);
    else if (lo !== undefined && lo > 0) parts.push(`at least ${lo}${unit}`);
    else if (top !== undefined) parts.push(`at most ${top}${unit}`);
  };
  if (s.enum) parts.push(`one of ${s.enum.map((v) => `\`${v}\``).join(", ")}`);
  range(s.minimum, s.maximum, "");
  if (s.exclusiveMinimum !== undefined) parts.push(`above ${s.exclusiveMinimum}`);
  range(s.minLength, s.maxLength, " characters");
  range(s.minItems, s.maxItems, " items");
  if (s.pattern) parts.push(`matches \`${s.pattern}\``);
  if (s.items && !s.items.properties) {
    const inner = constraintText(s.items);
    if (inner) parts.push(`each ${inner}`);
  }
  if (s.propertyNames) {
    const keys = constraintText(s.propertyNames);
    if (keys) parts.push(`keys ${keys}`);
  }
  if (typeof s.additionalProperties === "object") {
    const values = constraintText(s.additionalProperties);
    if (values) parts.push(`values ${values}`);
  }
  return parts.join("; ");
}

/** Access as the operation table states it, in words. */
function accessText(access: OperationAccess | undefined): string {
  if (!access) return "not in the operation table";
  let text = requirementText(access.auth);
  if (access.bodyAuth) text += `, and ${requirementText(access.bodyAuth)} (named in the body)`;
  if (access.cost === "query") text += "; *query*";
  if (access.cost === "longPoll") text += "; *long poll*";
  return text;
}

function requirementText(r: Requirement): string {
  switch (r.kind) {
    case "public":
      return "public (no signature)";
    case "any":
      return "any account";
    case "admin":
      return "admin";
    case "topic":
      return `\`${r.action}\` on topic \`${r.param}\``;
    case "group":
      return `\`${r.action}\` on group \`${r.param}\``;
    case "all":
      return r.of.map(requirementText).join(" and ");
  }
}

/** Hono's `:name` path syntax as OpenAPI's `{name}`, the way document.ts turns it. */
function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z]+)/g, "{$1}");
}

/** A table cell: pipes escaped (GitHub reads `\|` as a pipe, inside code spans too), no line breaks. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as dashes. */
export function githubSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } });
  const generated = renderHttpApiDoc(await loadApiSources());
  const relative = path.relative(ROOT, HTTP_API_DOC_PATH);
  if (values.check) {
    const committed = await readFile(HTTP_API_DOC_PATH, "utf8").catch(() => "");
    if (committed !== generated) {
      console.error(`${relative} is out of date: run npm run docs:api`);
      process.exit(1);
    }
    console.log(`${relative} is up to date`);
  } else {
    await writeFile(HTTP_API_DOC_PATH, generated);
    console.log(`wrote ${relative}`);
  }
}
