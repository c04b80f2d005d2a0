/**
 * Runs a task per item with a bounded number in flight: a browser opens about six connections
 * per origin, so a view asking one request per topic or queue asks six at a time and fills its
 * rows in as answers arrive.
 */

/** Parallel requests per view. */
export const VIEW_CONCURRENCY = 6;

/**
 * Calls `task` for every item, at most `limit` at once, and resolves when all have settled. A
 * task handles its own errors; one that throws anyway is logged and does not stop the rest.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        await task(items[i]!, i);
      } catch (e) {
        console.error(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
