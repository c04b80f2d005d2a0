/**
 * Command-line parsing for `flaremq <noun> <verb> [flags]`: flags are declared per verb, so a
 * boolean flag never swallows the next word, an unknown flag is refused, and values are
 * checked (integers, times) before any request is made. Bad usage throws a UsageError.
 */

export type FlagKind =
  /** One string value. */
  | "string"
  /** A safe integer (negative allowed). */
  | "int"
  /** Epoch milliseconds, or an ISO-8601 date converted to epoch milliseconds. */
  | "time"
  /** Present or absent; takes no value. */
  | "bool"
  /** Comma-separated values (`--keys k1,k2`). */
  | "list"
  /** Repeatable, and greedy: `--property a=1 b=2` or `--property a=1 --property b=2`. */
  | "multi";

export interface FlagSpec {
  kind: FlagKind;
  /** Placeholder shown in usage, e.g. `T` for `--topic T`. */
  value?: string;
  /** Refused when absent. Default false. */
  required?: boolean;
  /** For `multi`: also split each value on commas. Default false. */
  splitCommas?: boolean;
  help: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** Bad command-line usage: the CLI prints the message and a usage line, and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** How far the command line was understood, so the right usage line goes with the error. */
  noun: string | undefined;
  verb: string | undefined;
}

type FlagValue = string | number | boolean | string[];

/** Parsed flag values of one verb, read with typed getters. */
export class Flags {
  constructor(private readonly values: ReadonlyMap<string, FlagValue>) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === "string" ? v : undefined;
  }

  /** A flag declared `required` (the parser already refused its absence). */
  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`missing required flag --${name}`);
    return v;
  }

  /** Value of an `int` or `time` flag. */
  number(name: string): number | undefined {
    const v = this.values.get(name);
    return typeof v === "number" ? v : undefined;
  }

  requiredNumber(name: string): number {
    const v = this.number(name);
    if (v === undefined) throw new UsageError(`missing required flag --${name}`);
    return v;
  }

  bool(name: string): boolean {
    return this.values.get(name) === true;
  }

  /** Values of a `list` or `multi` flag; empty when absent. */
  list(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? v : [];
  }
}

export interface CommandLine {
  noun: string | undefined;
  verb: string | undefined;
  help: boolean;
  json: boolean;
  endpoint: string | undefined;
  flags: Flags;
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: FlagSpecs = {
  endpoint: { kind: "string", value: "url", help: "server URL (else $FLAREMQ_ENDPOINT, else http://127.0.0.1:8787)" },
  json: { kind: "bool", help: "print machine-readable JSON on stdout" },
  help: { kind: "bool", help: "show help" },
};

/** What the parser needs to know of the commands: nouns, their verbs and each verb's flags. */
export type CommandShapes = Readonly<Record<string, { verbs: Readonly<Record<string, { flags: FlagSpecs }>> }>>;

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Parses argv. Throws UsageError for an unknown noun, verb or flag, a missing or malformed
 * value, or a missing required flag (unless --help was given).
 */
export function parseCommandLine(argv: readonly string[], commands: CommandShapes): CommandLine {
  let noun: string | undefined;
  let verb: string | undefined;
  try {
    let verbFlags: FlagSpecs | undefined;
    const raw = new Map<string, string[] | true>();
    const specOf = (name: string): FlagSpec | undefined => own(GLOBAL_FLAGS, name) ?? (verbFlags && own(verbFlags, name));

    for (let i = 0; i < argv.length; i++) {
      const token = argv[i]!;
      if (token === "-h") {
        raw.set("help", true);
        continue;
      }
      if (!token.startsWith("--")) {
        if (noun === undefined) {
          if (!own(commands, token)) throw new UsageError(`unknown command "${token}"`);
          noun = token;
        } else if (verb === undefined) {
          const spec = own(commands[noun]!.verbs, token);
          if (!spec) throw new UsageError(`unknown verb "${token}" for "${noun}"`);
          verb = token;
          verbFlags = spec.flags;
        } else {
          throw new UsageError(`unexpected argument "${token}"`);
        }
        continue;
      }
      const eq = token.indexOf("=");
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      const spec = specOf(name);
      if (spec === undefined) throw new UsageError(`unknown flag --${name}`);
      if (spec.kind === "bool") {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        raw.set(name, true);
        continue;
      }
      let value: string;
      if (eq >= 0) value = token.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith("--")) throw new UsageError(`--${name} needs a value`);
        value = next;
        i++;
      }
      const values = [value];
      if (spec.kind === "multi" && eq < 0) {
        // Greedy: the words after it that are not flags belong to it.
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--") && argv[i + 1] !== "-h") values.push(argv[++i]!);
      }
      const previous = raw.get(name);
      if (previous !== undefined && spec.kind !== "multi") throw new UsageError(`--${name} given twice`);
      raw.set(name, [...(Array.isArray(previous) ? previous : []), ...values]);
    }

    const help = raw.get("help") === true;
    const values = new Map<string, FlagValue>();
    for (const [name, v] of raw) {
      if (!own(GLOBAL_FLAGS, name)) values.set(name, convert(name, specOf(name)!, v));
    }
    if (!help && verbFlags) {
      for (const [name, spec] of Object.entries(verbFlags)) {
        if (spec.required && !values.has(name)) throw new UsageError(`missing required flag --${name}`);
      }
    }
    const endpoint = raw.get("endpoint");
    return {
      noun,
      verb,
      help,
      json: raw.get("json") === true,
      endpoint: Array.isArray(endpoint) ? endpoint[0] : undefined,
      flags: new Flags(values),
    };
  } catch (e) {
    if (e instanceof UsageError) {
      e.noun = noun;
      e.verb = verb;
    }
    throw e;
  }
}

function convert(name: string, spec: FlagSpec, v: string[] | true): FlagValue {
  if (v === true) return true;
  const first = v[0]!;
  switch (spec.kind) {
    case "string":
      return first;
    case "int":
      return parseInteger(name, first);
    case "time":
      return parseTime(name, first);
    case "list":
      return splitList(first);
    case "multi":
      return spec.splitCommas ? v.flatMap(splitList) : v;
    case "bool":
      return true;
  }
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parseInteger(name: string, value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--${name} expects an integer, got "${value}"`);
  return n;
}

/** Epoch milliseconds (digits) or an ISO-8601 date such as 2024-05-01T12:00:00Z. */
function parseTime(name: string, value: string): number {
  if (/^\d+$/.test(value)) return parseInteger(name, value);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--${name} expects epoch milliseconds or an ISO date, got "${value}"`);
  return ms;
}

/** Parses `k=v` pairs (`--property`). */
export function parseProperties(name: string, pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${name} expects key=value, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
