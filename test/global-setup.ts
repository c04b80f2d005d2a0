import { buildWorker } from "../scripts/build.js";

/** Builds the Worker bundle once; each e2e file starts its own server on it. */
export default async function setup(): Promise<void> {
  await buildWorker();
}
