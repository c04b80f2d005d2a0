/**
 * Client unique keys (RocketMQ UNIQ_KEY): 16 bytes as 32 uppercase hex characters, like
 * RocketMQ's. RocketMQ packs IP and pid, which browsers and Workers cannot see; here bytes
 * 0-5 and 12-15 are random for every id (80 bits from crypto.getRandomValues) and bytes 6-11
 * hold the epoch milliseconds, so ids are roughly time-ordered and cannot be guessed: a
 * transaction's id is its half message's msgId, and a guessable one would let anyone who may
 * decide for the producer group find it without being handed a check.
 * Uniqueness is probabilistic: two ids of one millisecond collide with probability 2^-80.
 */
const RANDOM_BYTES = 10;
/** Random bytes drawn at once, so a batch of ids costs one call to the generator, not one each. */
const POOL_BYTES = RANDOM_BYTES * 256;
// Lazily filled: Workers forbid random values at module scope.
let pool = new Uint8Array(0);
let used = 0;

export function createMsgId(now: number = Date.now()): string {
  if (used + RANDOM_BYTES > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
    used = 0;
  }
  const random = pool.subarray(used, used + RANDOM_BYTES);
  used += RANDOM_BYTES;
  const time = now.toString(16).padStart(12, "0").slice(-12).toUpperCase();
  return toHex(random.subarray(0, 6)) + time + toHex(random.subarray(6));
}

let hex: string[] = [];

function toHex(bytes: Uint8Array): string {
  if (hex.length === 0) hex = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0").toUpperCase());
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += hex[bytes[i]!];
  return s;
}

/** Birth time packed in a flaremq msgId, or undefined for ids made elsewhere. */
export function msgIdBornTime(msgId: string, now: number = Date.now()): number | undefined {
  if (!/^[0-9A-F]{32}$/.test(msgId)) return undefined;
  const ms = parseInt(msgId.slice(12, 24), 16);
  // Only trust a time within ten years of now; anything else is not one of ours.
  return Math.abs(ms - now) < 10 * 365 * 86_400_000 ? ms : undefined;
}
