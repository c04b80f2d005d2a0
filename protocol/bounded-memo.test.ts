import { expect, it } from "vitest";
import { boundedMemo } from "./bounded-memo.js";

it("makes a key's value once, null values too, and forgets everything past its bound", () => {
  const made: string[] = [];
  const memo = boundedMemo(2, (key) => {
    made.push(key);
    return key === "none" ? null : key.length;
  });
  expect([memo("a"), memo("a"), memo("none"), memo("none")]).toEqual([1, 1, null, null]);
  expect(made).toEqual(["a", "none"]);
  memo("bcd"); // a third key: the two held are forgotten
  memo("a");
  expect(made).toEqual(["a", "none", "bcd", "a"]);
});
