/**
 * Where a client finds its credentials: its options, else FLAREMQ_ACCESS_KEY and
 * FLAREMQ_SECRET_KEY, else (in Node, for a local endpoint) the dev key a local `npm start`
 * wrote to ~/.flaremq/dev-credentials.json for that endpoint. Browsers and Workers use only the options.
 */
import type { Credentials } from "../protocol/auth/signature.js";
import { isLoopback, pickDevCredentials } from "./dev-credentials-file.js";

export type { Credentials };

/** Where `npm start` writes the dev key, relative to the home folder. */
export const DEV_CREDENTIALS_PATH = [".flaremq", "dev-credentials.json"] as const;

type NodeProcess = { env: Record<string, string | undefined>; versions?: { node?: string } };
// The little of Node's fs, os and path used here, typed without @types/node: the client is
// type-checked for browsers too (tsconfig.dashboard.json), where Node's types are absent.
type NodeFs = { readFile(file: string, encoding: "utf8"): Promise<string> };
type NodeOs = { homedir(): string };
type NodePath = { join(...parts: string[]): string };

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

export async function resolveCredentials(explicit: Credentials | null | undefined, endpoint: string): Promise<Credentials | undefined> {
  if (explicit === null) return undefined; // explicitly unsigned
  if (explicit) return explicit;
  const proc = nodeProcess();
  if (!proc) return undefined;
  const { FLAREMQ_ACCESS_KEY: accessKey, FLAREMQ_SECRET_KEY: secretKey } = proc.env;
  if (accessKey && secretKey) return { accessKey, secretKey };
  return readDevCredentials(endpoint);
}

/**
 * Node only: the dev key `npm start` recorded for the local server at `endpoint`, from
 * ~/.flaremq/dev-credentials.json under `homeDir` (default the user's home folder).
 */
export async function readDevCredentials(endpoint: string, homeDir?: string): Promise<Credentials | undefined> {
  if (!isLoopback(endpoint)) return undefined;
  try {
    // Module names in variables keep browser bundlers from resolving Node built-ins.
    const fsName = "node:fs/promises";
    const osName = "node:os";
    const pathName = "node:path";
    const fs = (await import(/* @vite-ignore */ fsName)) as NodeFs;
    const os = (await import(/* @vite-ignore */ osName)) as NodeOs;
    const path = (await import(/* @vite-ignore */ pathName)) as NodePath;
    const file = path.join(homeDir ?? os.homedir(), ...DEV_CREDENTIALS_PATH);
    return pickDevCredentials(JSON.parse(await fs.readFile(file, "utf8")), endpoint);
  } catch {
    return undefined; // no dev key on this machine
  }
}
