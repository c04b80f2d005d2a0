/**
 * The local dev admin key: created on the first `npm start`, kept in the state folder, and
 * copied to ~/.flaremq/dev-credentials.json where the client and CLI look for it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DEV_CREDENTIALS_PATH, type Credentials } from "../client/credentials.js";

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

export async function writeHomeCopy(credentials: Credentials, endpoint: string): Promise<void> {
  const file = path.join(os.homedir(), ...DEV_CREDENTIALS_PATH);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ ...credentials, endpoint }, null, 2), { mode: 0o600 });
}
