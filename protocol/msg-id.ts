/**
 * Client unique keys (RocketMQ UNIQ_KEY): 16 bytes as 32 uppercase hex characters, like
 * RocketMQ's. RocketMQ packs IP and pid, which browsers and Workers cannot see; here the
 * first 6 bytes are random per process, then 6 bytes of epoch milliseconds and a 4-byte
 * counter, so ids are unique and roughly time-ordered.
 */
// Lazily initialised: Workers forbid random values at module scope.
let prefix = "";
let counter = 0;

export function createMsgId(now: number = Date.now()): string {
  if (prefix === "") {
    prefix = toHex(crypto.getRandomValues(new Uint8Array(6)));
    counter = crypto.getRandomValues(new Uint32Array(1))[0]!;
  }
  counter = (counter + 1) >>> 0;
  return prefix + now.toString(16).padStart(12, "0").slice(-12).toUpperCase() + counter.toString(16).padStart(8, "0").toUpperCase();
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s.toUpperCase();
}

/** Birth time packed in a flaremq msgId, or undefined for ids made elsewhere. */
export function msgIdBornTime(msgId: string, now: number = Date.now()): number | undefined {
  if (!/^[0-9A-F]{32}$/.test(msgId)) return undefined;
  const ms = parseInt(msgId.slice(12, 24), 16);
  // Only trust a time within ten years of now; anything else is not one of ours.
  return Math.abs(ms - now) < 10 * 365 * 86_400_000 ? ms : undefined;
}
