/**
 * Queue allocation strategies for clustering consumers, as RocketMQ 4.x's
 * client/…/consumer/rebalance/* (AllocateMessageQueueStrategy implementations).
 *
 * Every consumer of a group computes the same allocation independently from the same inputs,
 * so the algorithms must be bit-for-bit deterministic: inputs are sorted first (as
 * RebalanceImpl.rebalanceByTopic does) and each strategy follows RocketMQ's arithmetic exactly.
 * Pure functions: no Node or Workers-only APIs.
 */
import type { MessageQueue } from "./message.js";
import { md5 } from "./md5.js";

export type AllocateStrategyName = "AVERAGELY" | "AVERAGELY_BY_CIRCLE" | "CONSISTENT_HASH" | "MACHINE_ROOM" | "MACHINE_ROOM_NEARBY" | "CONFIG";

export interface AllocateOptions {
  /** CONSISTENT_HASH: virtual nodes per consumer, default 10. */
  virtualNodeCount?: number;
  /** MACHINE_ROOM: the rooms (idcs) the consumers consume from; brokerName format "room@name". */
  consumeRooms?: readonly string[];
  /** MACHINE_ROOM_NEARBY: room of each consumer id (e.g. from its zone); queues' room comes from brokerName "room@name" (no "@" → no room). */
  clientRooms?: Readonly<Record<string, string>>;
  /** CONFIG: the queues each consumer id is configured with. */
  configured?: Readonly<Record<string, readonly MessageQueue[]>>;
}

/** RocketMQ's default number of virtual nodes per consumer (AllocateMessageQueueConsistentHash). */
const DEFAULT_VIRTUAL_NODE_COUNT = 10;

/** Java String.compareTo sign: both compare UTF-16 code units. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** RocketMQ MessageQueue.compareTo: topic, then brokerName, then queueId. */
export function compareMessageQueues(a: MessageQueue, b: MessageQueue): number {
  const byTopic = compareStrings(a.topic, b.topic);
  if (byTopic !== 0) return byTopic;
  const byBroker = compareStrings(a.brokerName, b.brokerName);
  if (byBroker !== 0) return byBroker;
  return a.queueId - b.queueId;
}

/**
 * The queues `currentCid` should consume. Sorts copies of `mqAll` and `cidAll` first, returns []
 * when `currentCid` is not in `cidAll` or there are no queues, then applies the strategy.
 */
export function allocate(
  strategy: AllocateStrategyName,
  currentCid: string,
  mqAll: readonly MessageQueue[],
  cidAll: readonly string[],
  options: AllocateOptions = {},
): MessageQueue[] {
  const share = plan(strategy, options);
  const mqs = [...mqAll].sort(compareMessageQueues);
  const cids = [...cidAll].sort(compareStrings);
  if (mqs.length === 0 || !cids.includes(currentCid)) return [];
  return share(mqs, cids)(currentCid);
}

/** Every consumer's share, keyed by consumer id in sorted order (duplicate ids appear once). */
export function allocateAll(
  strategy: AllocateStrategyName,
  mqAll: readonly MessageQueue[],
  cidAll: readonly string[],
  options: AllocateOptions = {},
): Map<string, MessageQueue[]> {
  const share = plan(strategy, options);
  const mqs = [...mqAll].sort(compareMessageQueues);
  const cids = [...cidAll].sort(compareStrings);
  const result = new Map<string, MessageQueue[]>();
  if (mqs.length === 0) {
    for (const cid of cids) result.set(cid, []);
    return result;
  }
  const shareOf = share(mqs, cids);
  for (const cid of cids) if (!result.has(cid)) result.set(cid, shareOf(cid));
  return result;
}

/**
 * A strategy prepared with its options: given the sorted, non-empty queues and the sorted
 * consumer ids, a function from a member consumer id to its share. Splitting it this way lets
 * allocateAll build per-group state (the hash ring) once.
 */
type Planned = (mqs: readonly MessageQueue[], cids: readonly string[]) => (cid: string) => MessageQueue[];

function plan(strategy: AllocateStrategyName, options: AllocateOptions): Planned {
  switch (strategy) {
    case "AVERAGELY":
      return (mqs, cids) => (cid) => averagely(cid, mqs, cids);
    case "AVERAGELY_BY_CIRCLE":
      return (mqs, cids) => (cid) => averagelyByCircle(cid, mqs, cids);
    case "CONSISTENT_HASH": {
      const virtualNodeCount = options.virtualNodeCount ?? DEFAULT_VIRTUAL_NODE_COUNT;
      if (!Number.isSafeInteger(virtualNodeCount) || virtualNodeCount < 0) {
        throw new RangeError(`illegal virtualNodeCnt: ${virtualNodeCount}`);
      }
      return (mqs, cids) => consistentHash(mqs, cids, virtualNodeCount);
    }
    case "MACHINE_ROOM": {
      const rooms = new Set(options.consumeRooms ?? []);
      return (mqs, cids) => (cid) => byMachineRoom(cid, mqs, cids, rooms);
    }
    case "MACHINE_ROOM_NEARBY": {
      const clientRooms = options.clientRooms ?? {};
      return (mqs, cids) => (cid) => machineRoomNearby(cid, mqs, cids, clientRooms);
    }
    case "CONFIG": {
      const configured = options.configured ?? {};
      return () => (cid) => (Object.hasOwn(configured, cid) ? [...(configured[cid] ?? [])] : []);
    }
    default: {
      const unknown: never = strategy;
      throw new RangeError(`unknown allocate strategy: ${String(unknown)}`);
    }
  }
}

/**
 * AllocateMessageQueueAveragely: contiguous blocks, the first `m % n` consumers one queue more
 * (8 queues / 3 consumers → {0,1,2},{3,4,5},{6,7}); consumers at index ≥ m get nothing.
 */
function averagely(cid: string, mqs: readonly MessageQueue[], cids: readonly string[]): MessageQueue[] {
  const index = cids.indexOf(cid);
  const m = mqs.length;
  const n = cids.length;
  if (index < 0 || m === 0) return [];
  const mod = m % n;
  const base = Math.floor(m / n);
  const averageSize = m <= n ? 1 : mod > 0 && index < mod ? base + 1 : base;
  const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, m - startIndex);
  const result: MessageQueue[] = [];
  for (let i = 0; i < range; i++) {
    const mq = mqs[(startIndex + i) % m];
    if (mq !== undefined) result.push(mq);
  }
  return result;
}

/** AllocateMessageQueueAveragelyByCircle: queue j goes to consumer j % n. */
function averagelyByCircle(cid: string, mqs: readonly MessageQueue[], cids: readonly string[]): MessageQueue[] {
  const index = cids.indexOf(cid);
  if (index < 0) return [];
  const result: MessageQueue[] = [];
  for (let i = index; i < mqs.length; i += cids.length) {
    const mq = mqs[i];
    if (mq !== undefined) result.push(mq);
  }
  return result;
}

/** Java's String.getBytes() (UTF-8) writes '?' for a lone surrogate where TextEncoder writes U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** ConsistentHashRouter.MD5Hash: the first 4 bytes of MD5(UTF-8 key) as a big-endian unsigned value. */
function ringHash(key: string): number {
  const digest = md5(/[\uD800-\uDFFF]/.test(key) ? key.replace(LONE_SURROGATE, "?") : key);
  return (((digest[0] ?? 0) << 24) | ((digest[1] ?? 0) << 16) | ((digest[2] ?? 0) << 8) | (digest[3] ?? 0)) >>> 0;
}

/** RocketMQ MessageQueue.toString, the key AllocateMessageQueueConsistentHash routes by. */
function messageQueueKey(mq: MessageQueue): string {
  return `MessageQueue [topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
}

/**
 * AllocateMessageQueueConsistentHash over ConsistentHashRouter: each consumer (in sorted order)
 * puts `virtualNodeCount` virtual nodes "cid-k" on a ring of 32-bit MD5 hashes (a later node
 * replaces an earlier one on a hash collision, as TreeMap.put does); a queue belongs to the
 * first node whose hash is ≥ the queue key's hash, wrapping around to the lowest.
 */
function consistentHash(mqs: readonly MessageQueue[], cids: readonly string[], virtualNodeCount: number): (cid: string) => MessageQueue[] {
  const ring = new Map<number, string>();
  /** Virtual nodes each consumer currently has on the ring (ConsistentHashRouter.getExistingReplicas). */
  const replicas = new Map<string, number>();
  for (const cid of cids) {
    const existing = replicas.get(cid) ?? 0;
    for (let i = 0; i < virtualNodeCount; i++) {
      const hash = ringHash(`${cid}-${i + existing}`);
      const previous = ring.get(hash);
      if (previous !== undefined) replicas.set(previous, (replicas.get(previous) ?? 0) - 1);
      ring.set(hash, cid);
      replicas.set(cid, (replicas.get(cid) ?? 0) + 1);
    }
  }
  const hashes = [...ring.keys()].sort((a, b) => a - b);
  const shares = new Map<string, MessageQueue[]>();
  if (hashes.length > 0) {
    for (const mq of mqs) {
      const hash = ringHash(messageQueueKey(mq));
      // First ring position with a hash ≥ the key's (TreeMap.tailMap(hash).firstKey()), else wrap.
      let lo = 0;
      let hi = hashes.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((hashes[mid] ?? 0) < hash) lo = mid + 1;
        else hi = mid;
      }
      const owner = ring.get(hashes[lo === hashes.length ? 0 : lo] ?? 0);
      if (owner === undefined) continue;
      const share = shares.get(owner);
      if (share === undefined) shares.set(owner, [mq]);
      else share.push(mq);
    }
  }
  return (cid) => [...(shares.get(cid) ?? [])];
}

/** Java's `s.split("@")`: no match → [s]; trailing empty strings are dropped. */
function splitAtSign(s: string): string[] {
  if (!s.includes("@")) return [s];
  const parts = s.split("@");
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** The room of a broker named "room@name", as AllocateMessageQueueByMachineRoom parses it. */
function brokerRoom(brokerName: string): string | undefined {
  const parts = splitAtSign(brokerName);
  return parts.length === 2 ? parts[0] : undefined;
}

/**
 * AllocateMessageQueueByMachineRoom: keep the queues of brokers "room@name" whose room is in
 * `rooms`; consumer i gets the block [i*mod, i*mod+mod) plus queue i + mod*n when i < rem.
 */
function byMachineRoom(cid: string, mqs: readonly MessageQueue[], cids: readonly string[], rooms: ReadonlySet<string>): MessageQueue[] {
  const currentIndex = cids.indexOf(cid);
  if (currentIndex < 0) return [];
  const premqAll = mqs.filter((mq) => {
    const room = brokerRoom(mq.brokerName);
    return room !== undefined && rooms.has(room);
  });
  const n = cids.length;
  const mod = Math.floor(premqAll.length / n);
  const rem = premqAll.length % n;
  const result = premqAll.slice(mod * currentIndex, mod * currentIndex + mod);
  if (rem > currentIndex) {
    const extra = premqAll[currentIndex + mod * n];
    if (extra !== undefined) result.push(extra);
  }
  return result;
}

/**
 * AllocateMachineRoomNearby with AllocateMessageQueueAveragely as the delegate: the queues of
 * the consumer's own room are shared among that room's consumers; the queues of each room that
 * has no consumer (in room order) are shared among all consumers. RocketMQ's resolver must name
 * a room for every queue and consumer; here a queue without "room@" or a consumer without a
 * clientRooms entry has no room: such queues are shared among all consumers (after the rooms),
 * and such consumers only take part in that sharing.
 */
function machineRoomNearby(cid: string, mqs: readonly MessageQueue[], cids: readonly string[], clientRooms: Readonly<Record<string, string>>): MessageQueue[] {
  if (!cids.includes(cid)) return [];
  const roomOfConsumer = (id: string): string | undefined => {
    const room = Object.hasOwn(clientRooms, id) ? clientRooms[id] : undefined;
    return room === undefined || room === "" ? undefined : room;
  };

  const mqsByRoom = new Map<string, MessageQueue[]>();
  const roomless: MessageQueue[] = [];
  for (const mq of mqs) {
    const room = brokerRoom(mq.brokerName);
    if (room === undefined || room === "") {
      roomless.push(mq);
      continue;
    }
    const list = mqsByRoom.get(room);
    if (list === undefined) mqsByRoom.set(room, [mq]);
    else list.push(mq);
  }
  const cidsByRoom = new Map<string, string[]>();
  for (const id of cids) {
    const room = roomOfConsumer(id);
    if (room === undefined) continue;
    const list = cidsByRoom.get(room);
    if (list === undefined) cidsByRoom.set(room, [id]);
    else list.push(id);
  }

  const result: MessageQueue[] = [];
  // 1. The queues in the consumer's own room, among the consumers of that room.
  const currentRoom = roomOfConsumer(cid);
  if (currentRoom !== undefined) {
    const here = mqsByRoom.get(currentRoom);
    const consumersHere = cidsByRoom.get(currentRoom);
    if (here !== undefined && here.length > 0 && consumersHere !== undefined) {
      result.push(...averagely(cid, here, consumersHere));
    }
  }
  // 2. The queues of rooms without any consumer, among all consumers (TreeMap order of rooms).
  for (const room of [...mqsByRoom.keys()].sort(compareStrings)) {
    if (room === currentRoom || cidsByRoom.has(room)) continue;
    result.push(...averagely(cid, mqsByRoom.get(room) ?? [], cids));
  }
  // Queues with no room at all: nobody is near them either.
  if (roomless.length > 0) result.push(...averagely(cid, roomless, cids));
  return result;
}
