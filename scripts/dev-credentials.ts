/**
 * The local dev admin key: created on the first `npm start`, kept in the state folder, and
 * recorded for its endpoint in ~/.flaremq/dev-credentials.json, where the client and CLI look for it.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DEV_CREDENTIALS_PATH, type Credentials } from "../client/credentials.js";
import { withDevCredentials } from "../client/dev-credentials-file.js";

export async function devCredentials(stateDir: string): Promise<Credentials> {
  const file = path.join(stateDir, "dev-credentials.json");
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Credentials;
    if (parsed.accessKey && parsed.secretKey) return parsed;
  } catch {
    // first start: create one below
  }
  const created: Credentials = {
    accessKey: "dev-admin",
    secretKey: Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url"),
  };
  await mkdir(stateDir, { recursive: true });
  await writeFile(file, JSON.stringify(created, null, 2), { mode: 0o600 });
  return created;
}

/**
 * Records the key of the server at `endpoint` in ~/.flaremq/dev-credentials.json (under
 * `homeDir`, default the user's home folder), keeping the keys of other local servers.
 */
export async function writeHomeCopy(credentials: Credentials, endpoint: string, homeDir = os.homedir()): Promise<void> {
  const file = path.join(homeDir, ...DEV_CREDENTIALS_PATH);
  await mkdir(path.dirname(file), { recursive: true });
  let current: unknown;
  try {
    current = JSON.parse(await readFile(file, "utf8"));
  } catch {
    current = undefined; // no file yet, or unreadable: start a new one
  }
  const next = withDevCredentials(current, endpoint, credentials);
  // Written aside and renamed, so a client never reads half a file.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(next, null, 2), { mode: 0o600 });
  await rename(temp, file);
}
