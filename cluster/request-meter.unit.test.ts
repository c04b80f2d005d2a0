/** The stub meter (request-meter.ts): every method call on a wrapped stub counted per class and method, only under the test configuration. */
import { describe, expect, it } from "vitest";
import type { Env } from "./env.js";
import { meteredStub, stubCallTotals } from "./request-meter.js";

class FakeStub {
  readonly name = "queue-0";
  calls: string[] = [];
  append(n: number): Promise<number> {
    this.calls.push(`append ${n}`);
    return Promise.resolve(n + 1);
  }
  stats(): string {
    return "stats";
  }
}

const testEnv = { TEST_FAULTS_ENABLED: "true" } as unknown as Env;

describe("meteredStub", () => {
  it("counts each method call under the class and method, and answers as the stub does", async () => {
    const stub = new FakeStub();
    const metered = meteredStub(testEnv, "MeterTestDO", stub);
    expect(await metered.append(1)).toBe(2);
    expect(await metered.append(2)).toBe(3);
    expect(metered.stats()).toBe("stats");
    expect(metered.name).toBe("queue-0");
    expect(stub.calls).toEqual(["append 1", "append 2"]);
    expect(stubCallTotals()["MeterTestDO"]).toEqual({ append: 2, stats: 1 });
  });

  it("leaves the stub alone outside the test configuration", () => {
    const stub = new FakeStub();
    expect(meteredStub({} as Env, "UnmeteredDO", stub)).toBe(stub);
    stub.stats();
    expect(stubCallTotals()["UnmeteredDO"]).toBeUndefined();
  });
});
