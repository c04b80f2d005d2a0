import { buildDashboard } from "../scripts/build.js";

/**
 * Writes dashboard/generated/scripts.js (the dashboard's bundled browser code) before a test
 * project loads the Worker's app, which imports it. The e2e setup builds it with the Worker.
 */
export default async function setup(): Promise<void> {
  await buildDashboard();
}
