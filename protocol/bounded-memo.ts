/**
 * A function of a string key, remembered for the keys seen lately: for values every message of
 * a batch shares (its queue's part of a receipt handle, its broker and topic in an offsetMsgId),
 * made once per batch rather than once per message. Bounded: past `maxEntries` keys it forgets
 * them all, since a value is cheap to make again and a key may come from a caller.
 */
export function boundedMemo<V>(maxEntries: number, make: (key: string) => V): (key: string) => V {
  const held = new Map<string, V>();
  return (key) => {
    if (held.has(key)) return held.get(key)!;
    const value = make(key);
    if (held.size >= maxEntries) held.clear();
    held.set(key, value);
    return value;
  };
}
