/**
 * The test configuration's routes, answering 404 unless TEST_FAULTS_ENABLED is "true", which no
 * deployed config sets:
 * - PUT /_test/faults: fault injection for HA tests (unreachable NameServers and masters, silent brokers)
 * - GET /_test/activity: what the objects of this isolate did, per class (calls in progress,
 *   activations, busy time; durable-objects/shared/activity.ts), for the benchmark's idle cost,
 *   and what Cloudflare would bill them for: stub calls (cluster/request-meter.ts), alarm runs and
 *   WebSocket events, storage writes (durable-objects/shared/storage-meter.ts), for its cost per message
 */
import { Hono } from "hono";
import { MQError } from "../../protocol/errors.js";
import { FaultsSchema } from "../../protocol/schemas.js";
import { readConfig } from "../../cluster/config.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { brokerStub } from "../../cluster/stubs.js";
import type { AppEnv } from "../shared/app-env.js";
import { currentFaults, setFaults } from "../../cluster/faults.js";
import { readJson } from "../shared/validate.js";
import { activityTotals, handlerCallTotals } from "../../durable-objects/shared/activity.js";
import { storageWriteTotals } from "../../durable-objects/shared/storage-meter.js";
import { stubCallTotals } from "../../cluster/request-meter.js";

export const faultRoutes = new Hono<AppEnv>()
  .put("/faults", async (c) => {
    if (!readConfig(c.env).testFaultsEnabled) throw new MQError("NOT_FOUND", "fault injection is off in this configuration");
    const input = await readJson(c, FaultsSchema);
    setFaults(input);
    const silence = async (names: string[] | undefined, silent: boolean) => {
      for (const name of names ?? []) {
        await callRpc(() => brokerStub(c.env, name).testSetSilent(silent));
      }
    };
    await silence(input.silentBrokers, true);
    await silence(input.talkingBrokers, false);
    return c.json(currentFaults());
  })
  .get("/activity", (c) => {
    if (!readConfig(c.env).testFaultsEnabled) throw new MQError("NOT_FOUND", "activity counts are off in this configuration");
    return c.json({ classes: activityTotals(), stubCalls: stubCallTotals(), handlerCalls: handlerCallTotals(), storageWrites: storageWriteTotals() });
  });
