/**
 * The flaremq admin CLI: `flaremq <noun> <verb> [flags]`, run through tsx
 * (`npm run cli -- topic list`, `npx flaremq topic list`).
 *
 * Exit codes: 0 success; 1 an error from the server or the request (`error CODE: message` on
 * stderr; with --json also `{ "error": { code, message } }` on stdout); 2 bad usage (unknown
 * noun, verb or flag, a missing or malformed value), with a usage line.
 */
import process from "node:process";
import { isMQError } from "../client/index.js";
import { parseCommandLine, UsageError } from "./args.js";
import { createContext } from "./command.js";
import { commands } from "./commands/index.js";
import { errorJson } from "./output.js";
import { helpText, usageLine } from "./usage.js";

const DEFAULT_ENDPOINT = "http://127.0.0.1:8787";

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { isTTY?: boolean; write(text: string): unknown };
  env: Record<string, string | undefined>;
}

async function main(argv: readonly string[], io: Io): Promise<number> {
  const wantsJson = argv.includes("--json");
  const fail = (code: string, message: string): void => {
    io.stderr.write(`error ${code}: ${message}\n`);
    if (wantsJson) io.stdout.write(`${errorJson(code, message)}\n`);
  };
  let noun: string | undefined;
  let verb: string | undefined;
  try {
    const cmd = parseCommandLine(argv, commands);
    ({ noun, verb } = cmd);
    if (cmd.help) {
      io.stdout.write(`${helpText(commands, noun, verb)}\n`);
      return 0;
    }
    if (noun === undefined) throw new UsageError("missing command");
    if (verb === undefined) throw new UsageError(`missing verb for "${noun}"`);
    const ctx = createContext(cmd.endpoint ?? io.env.FLAREMQ_ENDPOINT ?? DEFAULT_ENDPOINT, io.stderr);
    const out = await commands[noun]!.verbs[verb]!.run(ctx, cmd.flags);
    io.stdout.write(`${cmd.json ? JSON.stringify(out.data, null, 2) : out.text}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      fail("USAGE", e.message);
      io.stderr.write(`${usageLine(commands, e.noun ?? noun, e.verb ?? verb)}\n`);
      return 2;
    }
    if (isMQError(e)) {
      fail(e.code, e.message);
      return 1;
    }
    // Not a user or server error: a bug in the CLI or the client. Keep the stack for the report.
    fail("INTERNAL_ERROR", e instanceof Error ? e.message : String(e));
    if (e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2), process);
