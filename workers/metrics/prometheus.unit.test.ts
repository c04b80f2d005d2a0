/** The Prometheus text format: families, escaped label values, histogram samples, empty families left out. */
import { describe, expect, it } from "vitest";
import { Exposition, escapeLabelValue } from "./prometheus.js";

describe("Exposition", () => {
  it("writes HELP and TYPE once per family, then its samples with their labels", () => {
    const text = new Exposition()
      .family("a_total", "counter", "A count.")
      .family("unused", "gauge", "Never sampled.")
      .sample("a_total", { topic: "T", queueId: 0 }, 3)
      .sample("a_total", {}, 4)
      .text();
    expect(text).toBe('# HELP a_total A count.\n# TYPE a_total counter\na_total{topic="T",queueId="0"} 3\na_total 4\n');
  });

  it("escapes backslash, quote and line feed in label values only", () => {
    expect(escapeLabelValue('a\\b"c\nd%RETRY%')).toBe('a\\\\b\\"c\\nd%RETRY%');
  });

  it("writes histogram buckets, sum and count under the family's name", () => {
    const text = new Exposition()
      .family("d_seconds", "histogram", "Durations.")
      .sample("d_seconds", { le: "0.1" }, 1, "_bucket")
      .sample("d_seconds", { le: "+Inf" }, 2, "_bucket")
      .sample("d_seconds", {}, 0.25, "_sum")
      .sample("d_seconds", {}, 2, "_count")
      .text();
    expect(text.split("\n").slice(2, 6)).toEqual(['d_seconds_bucket{le="0.1"} 1', 'd_seconds_bucket{le="+Inf"} 2', "d_seconds_sum 0.25", "d_seconds_count 2"]);
  });

  it("refuses a sample of an undeclared family and a family declared with two types", () => {
    expect(() => new Exposition().sample("x", {}, 1)).toThrow(/not declared/);
    expect(() => new Exposition().family("x", "gauge", "").family("x", "counter", "")).toThrow(/declared as gauge and counter/);
  });
});
