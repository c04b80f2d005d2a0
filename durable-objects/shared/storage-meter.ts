/**
 * What an object's storage did that Cloudflare bills, counted per object class under the test
 * configuration only: SQLite rows written (every table, every statement: `cursor.rowsWritten`
 * as the statement returns), keys written or deleted through the key-value API, and alarms set
 * (each `setAlarm` is billed as one row written). The benchmark reads the totals (GET
 * /_test/activity) to report rows written per message, the slave's included, where a queue's
 * own stats count only its log rows.
 *
 * activity.ts meters an object when it first sees a call to it, by wrapping the methods of that
 * object's storage in place; an object's constructor writes before that (its schema) are not
 * counted. A statement that returns rows while writing (INSERT ... RETURNING over several rows)
 * counts the rows written by the time it returned its cursor.
 */

export interface StorageWrites {
  /** SQLite rows written. */
  sqlRows: number;
  /** Keys put or deleted through the key-value API. */
  kvKeys: number;
  /** setAlarm calls. */
  alarmsSet: number;
}

const byClass = new Map<string, StorageWrites>();

function totals(className: string): StorageWrites {
  let t = byClass.get(className);
  if (!t) byClass.set(className, (t = { sqlRows: 0, kvKeys: 0, alarmsSet: 0 }));
  return t;
}

const keysIn = (arg: unknown): number =>
  typeof arg === "string" ? 1 : Array.isArray(arg) ? arg.length : arg && typeof arg === "object" ? Object.keys(arg).length : 1;

/** Starts counting the writes of `storage` under `className`. Call once per object. */
export function meterStorage(className: string, storage: DurableObjectStorage): void {
  const t = totals(className);
  const sql = storage.sql as SqlStorage | undefined;
  if (sql) {
    const exec = sql.exec.bind(sql);
    Object.defineProperty(sql, "exec", {
      configurable: true,
      value: (query: string, ...bindings: unknown[]) => {
        const cursor = exec(query, ...bindings);
        t.sqlRows += cursor.rowsWritten;
        return cursor;
      },
    });
  }
  const wrap = (name: "put" | "delete" | "setAlarm", onCall: (args: unknown[]) => void) => {
    const original = (storage[name] as (...a: unknown[]) => unknown).bind(storage);
    Object.defineProperty(storage, name, {
      configurable: true,
      value: (...args: unknown[]) => {
        onCall(args);
        return original(...args);
      },
    });
  };
  wrap("put", (args) => (t.kvKeys += keysIn(args[0])));
  wrap("delete", (args) => (t.kvKeys += keysIn(args[0])));
  wrap("setAlarm", () => t.alarmsSet++);
}

/** Storage writes counted in this isolate so far, per class. */
export function storageWriteTotals(): Record<string, StorageWrites> {
  return Object.fromEntries([...byClass].map(([name, t]) => [name, { ...t }]));
}
