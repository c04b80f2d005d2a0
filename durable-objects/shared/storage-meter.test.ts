/** The storage meter (storage-meter.ts) on a real object's storage: SQLite rows, key-value keys and alarms, counted per class. */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newQueue } from "../test-support.js";
import { meterStorage, storageWriteTotals } from "./storage-meter.js";

describe("meterStorage", () => {
  it("counts the rows every statement writes, keys put and deleted, and alarms set", async () => {
    const { q } = newQueue("Meter");
    await runInDurableObject(q, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE IF NOT EXISTS meter_test (id INTEGER PRIMARY KEY, v TEXT)");
      meterStorage("MeteredForTest", state.storage);
      sql.exec("INSERT INTO meter_test (v) VALUES ('a'), ('b'), ('c')");
      sql.exec("UPDATE meter_test SET v = 'z' WHERE v != 'a'");
      expect(sql.exec("SELECT count(*) AS n FROM meter_test").one().n).toBe(3);
      await state.storage.put({ k1: 1, k2: 2 });
      await state.storage.delete("k1");
      await state.storage.setAlarm(Date.now() + 60_000);
      await state.storage.deleteAlarm();
    });
    expect(storageWriteTotals()["MeteredForTest"]).toEqual({ sqlRows: 5, kvKeys: 3, alarmsSet: 1 });
  });
});
