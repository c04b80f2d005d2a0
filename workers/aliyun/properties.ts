/**
 * Message properties in the Alibaba Cloud RocketMQ HTTP protocol: `key:value|key:value` (Node
 * joins without a trailing `|`, Java, Go and Python add one), and the keys with a meaning:
 * KEYS (the message key), __STARTDELIVERTIME (epoch ms), __TransCheckT (seconds to the first
 * transaction check), __SHARDINGKEY (the ordered partition). Keys and values may not hold
 * `' " & < > | :` (the SDKs refuse them client-side).
 */

export const AliyunProps = {
  KEYS: "KEYS",
  START_DELIVER_TIME: "__STARTDELIVERTIME",
  TRANS_CHECK_T: "__TransCheckT",
  SHARDING_KEY: "__SHARDINGKEY",
} as const;

/** Characters no property key or value may hold. */
const FORBIDDEN = /['"&<>|:]/;

/** Reads the wire form; null when an entry is not `key:value` with legal, non-empty sides. */
export function parseProperties(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const entry of text.split("|")) {
    if (entry === "") continue; // a trailing "|"
    const colon = entry.indexOf(":");
    if (colon <= 0 || colon === entry.length - 1) return null;
    const key = entry.slice(0, colon);
    const value = entry.slice(colon + 1);
    if (FORBIDDEN.test(key) || FORBIDDEN.test(value)) return null;
    out[key] = value;
  }
  return out;
}

/** The wire form of the properties an SDK can read back; pairs it could not read are left out. */
export function formatProperties(properties: Record<string, string>): string {
  return Object.entries(properties)
    .filter(([k, v]) => k !== "" && v !== "" && !FORBIDDEN.test(k) && !FORBIDDEN.test(v))
    .map(([k, v]) => `${k}:${v}`)
    .join("|");
}
