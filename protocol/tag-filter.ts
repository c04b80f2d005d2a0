/**
 * Tag subscription expressions, as RocketMQ's FilterAPI: `*` (or empty) matches everything,
 * otherwise tags separated by `||`. A message without tags matches only `*`.
 * RocketMQ filters on tag hash codes and re-checks the exact string on the client; here the
 * broker compares exact strings, so there are no hash collisions to re-check.
 */
export interface TagFilter {
  readonly all: boolean;
  readonly tags: ReadonlySet<string>;
}

export function parseTagExpression(expression: string | undefined): TagFilter {
  const text = (expression ?? "").trim();
  if (text === "" || text === "*") return { all: true, tags: new Set() };
  const tags = new Set(
    text
      .split("||")
      .map((t) => t.trim())
      .filter((t) => t.length > 0),
  );
  if (tags.size === 0 || tags.has("*")) return { all: true, tags: new Set() };
  return { all: false, tags };
}

export function matchesTag(filter: TagFilter, tags: string): boolean {
  if (filter.all) return true;
  return tags.length > 0 && filter.tags.has(tags);
}
