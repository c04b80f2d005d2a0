/** Usage lines and help text, generated from the command table. */
import { GLOBAL_FLAGS, type FlagSpec, type FlagSpecs } from "./args.js";
import type { Noun, Verb } from "./command.js";
import { table } from "./output.js";

const PROGRAM = "flaremq";

function flagUsage(name: string, spec: FlagSpec): string {
  const text = spec.kind === "bool" ? `--${name}` : `--${name} ${spec.value ?? "VALUE"}`;
  return spec.required ? text : `[${text}]`;
}

function flagsHelp(flags: FlagSpecs): string {
  return table(
    ["FLAG", "DESCRIPTION"],
    Object.entries(flags).map(([name, spec]) => [flagUsage(name, { ...spec, required: true }), spec.help + (spec.required ? " (required)" : "")]),
  );
}

/** The one-line usage of a verb, a noun, or the whole CLI. */
export function usageLine(commands: Readonly<Record<string, Noun>>, noun?: string, verb?: string): string {
  if (noun === undefined) return `usage: ${PROGRAM} <${Object.keys(commands).join("|")}> <verb> [flags]`;
  const n = commands[noun]!;
  if (verb === undefined) return `usage: ${PROGRAM} ${noun} <${Object.keys(n.verbs).join("|")}> [flags]`;
  const v: Verb = n.verbs[verb]!;
  return ["usage:", PROGRAM, noun, verb, ...Object.entries(v.flags).map(([name, spec]) => flagUsage(name, spec))].join(" ");
}

/** Full help for `--help` at any depth. */
export function helpText(commands: Readonly<Record<string, Noun>>, noun?: string, verb?: string): string {
  const parts = [usageLine(commands, noun, verb)];
  if (noun === undefined) {
    parts.push(
      table(
        ["COMMAND", "DESCRIPTION"],
        Object.entries(commands).map(([name, n]) => [name, n.summary]),
      ),
    );
  } else if (verb === undefined) {
    const n = commands[noun]!;
    parts.push(
      n.summary,
      table(
        ["VERB", "DESCRIPTION"],
        Object.entries(n.verbs).map(([name, v]) => [name, v.summary]),
      ),
    );
  } else {
    const v = commands[noun]!.verbs[verb]!;
    parts.push(v.summary);
    if (Object.keys(v.flags).length > 0) parts.push(flagsHelp(v.flags));
  }
  parts.push(`global flags:\n${flagsHelp(GLOBAL_FLAGS)}`);
  return parts.join("\n\n");
}
