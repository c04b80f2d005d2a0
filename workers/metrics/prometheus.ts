/**
 * The Prometheus text exposition format (version 0.0.4): families with HELP and TYPE, samples
 * with escaped label values. Pure, so the route only gathers numbers.
 */

export type MetricType = "counter" | "gauge" | "histogram";
export type Labels = Readonly<Record<string, string | number>>;

interface Family {
  help: string;
  type: MetricType;
  samples: { suffix: string; labels: Labels; value: number }[];
}

/** Backslash, double quote and line feed are escaped in a label value; nothing else is. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

export class Exposition {
  private readonly families = new Map<string, Family>();

  /** Declares a family once (later declarations of the same name must agree). */
  family(name: string, type: MetricType, help: string): this {
    const known = this.families.get(name);
    if (known && known.type !== type) throw new Error(`metric ${name} declared as ${known.type} and ${type}`);
    if (!known) this.families.set(name, { help, type, samples: [] });
    return this;
  }

  /** A sample of a declared family; `suffix` is `_bucket`, `_sum` or `_count` for histograms. */
  sample(name: string, labels: Labels, value: number, suffix = ""): this {
    const f = this.families.get(name);
    if (!f) throw new Error(`metric ${name} is not declared`);
    f.samples.push({ suffix, labels, value });
    return this;
  }

  /** The document; families without samples are left out. */
  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.families) {
      if (f.samples.length === 0) continue;
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.samples) lines.push(`${name}${s.suffix}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
    return lines.join("\n") + "\n";
  }
}
