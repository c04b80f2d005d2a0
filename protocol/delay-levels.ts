/**
 * Delay levels, in RocketMQ's `messageDelayLevel` format: space-separated durations whose
 * last character is the unit (s, m, h, d); level N is the Nth entry. `ms` is accepted too,
 * so test deployments can shorten the table to milliseconds.
 */
export const DEFAULT_DELAY_LEVELS = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a level table into milliseconds per level (index 0 is level 1); throws on bad input. */
export function parseDelayLevels(table: string): number[] {
  const entries = table.trim().split(/\s+/);
  return entries.map((entry) => {
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(entry);
    if (!match) throw new Error(`bad delay level "${entry}" in "${table}"`);
    return Number(match[1]) * UNIT_MS[match[2]!]!;
  });
}

/** Delay of a level; levels above the table are clamped to its last entry, as RocketMQ does. */
export function delayForLevel(levels: readonly number[], level: number): number {
  if (level <= 0 || levels.length === 0) return 0;
  return levels[Math.min(level, levels.length) - 1]!;
}
